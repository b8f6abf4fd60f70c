using System.Collections;

namespace GenMetrics.Compute;

/// <summary>
/// What the float64 refinement of the exact k-NN decisions did: how many decisions (membership comparisons
/// and k-th-neighbour radii) the low-precision distance and its error bound could not settle, how many float64
/// distances Σ(a − b)² were evaluated for them, and the time spent (host wall time; on a GPU, the host side
/// of the refinement plus the waits for its kernels — the in-tile part is inside the tile kernels and not separable).
/// </summary>
public sealed record RefinementCounts(long Decisions, long Float64Distances, double Seconds)
{
    public static RefinementCounts None { get; } = new(0, 0, 0);

    public static RefinementCounts operator +(RefinementCounts a, RefinementCounts b) =>
        new(a.Decisions + b.Decisions, a.Float64Distances + b.Float64Distances, a.Seconds + b.Seconds);
}

/// <summary>
/// Squared k-NN radii of every row of a set for each requested k, Result[kIndex][row], exactly as a float64
/// evaluation of Σ(a − b)² gives them (metrics-spec §0), with the refinement that made them exact.
/// </summary>
public sealed class KnnRadii(double[][] radii, RefinementCounts refinement) : IReadOnlyList<double[]>
{
    public RefinementCounts Refinement { get; } = refinement;

    public double[] this[int index] => radii[index];

    public int Count => radii.Length;

    public IEnumerator<double[]> GetEnumerator() => ((IEnumerable<double[]>)radii).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => radii.GetEnumerator();
}
