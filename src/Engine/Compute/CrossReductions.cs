namespace GenMetrics.Compute;

/// <summary>
/// What <see cref="IComputeBackend.ReduceCrossDistances"/> should reduce each fake x real tile to.
/// Radii are squared, exact float64 values (<see cref="IComputeBackend.KnnRadiiSquared"/>) indexed
/// [kIndex][sample]; both lists hold the same number of k values. Every membership decision against them is
/// exact: the backend recomputes in float64 each distance whose low-precision error bound straddles a radius.
/// </summary>
public sealed class CrossRequest
{
    /// <summary>Squared k-NN radii of the real set, one array per k (length N_real each).</summary>
    public required IReadOnlyList<double[]> RealRadiiSquared { get; init; }

    /// <summary>Squared k-NN radii of the fake set, one array per k (length N_fake each).</summary>
    public required IReadOnlyList<double[]> FakeRadiiSquared { get; init; }

    /// <summary>
    /// When set (length N_real): compute, per fake g, max_j RealismRadiiSquared[j] / (d²(g, r_j) + RealismEpsilon)
    /// (kynkaat's realism score; the caller has already pruned the radii to its percentile), exactly: the
    /// float64 value of the maximum, rounded to float32 at the end.
    /// </summary>
    public double[]? RealismRadiiSquared { get; init; }

    public float RealismEpsilon { get; init; } = 1e-5f;
}

/// <summary>
/// Row-wise (per fake g) and column-wise (per real r) reductions of all d²(g, r). Arrays indexed by
/// [kIndex][sample] follow the k order of the request.
/// </summary>
public sealed class CrossReductions
{
    /// <summary>Per k, per fake: #{ j : d²(g, r_j) ≤ r²_j(k) } (NVIDIA precision uses &gt; 0).</summary>
    public required int[][] FakeInsideRealCountLe { get; init; }

    /// <summary>Per k, per fake: #{ j : d²(g, r_j) &lt; r²_j(k) } (prdc / manifmetric precision and density).</summary>
    public required int[][] FakeInsideRealCountLt { get; init; }

    /// <summary>Per k, per real: ∃ g with d²(r, g) ≤ ρ²_g(k) (NVIDIA recall).</summary>
    public required bool[][] RealInsideFakeLe { get; init; }

    /// <summary>Per k, per real: ∃ g with d²(r, g) &lt; ρ²_g(k) (prdc / manifmetric recall).</summary>
    public required bool[][] RealInsideFakeLt { get; init; }

    /// <summary>Per k, per real: ∃ g with d²(r, g) &lt; r²_r(k), i.e. the nearest fake lies strictly inside the real's own ball (prdc coverage).</summary>
    public required bool[][] RealCoveredLt { get; init; }

    /// <summary>Per k, per fake: ∃ r with d²(g, r) &lt; ρ²_g(k), i.e. the nearest real lies strictly inside the fake's own ball (manifmetric comp_precision).</summary>
    public required bool[][] FakeComplementLt { get; init; }

    /// <summary>What the float64 refinement of this pass's decisions did.</summary>
    public RefinementCounts Refinement { get; init; } = RefinementCounts.None;

    /// <summary>Per fake: min_j d²(g, r_j) as the distance GEMM computed it (float32; not refined).</summary>
    public required float[] FakeNearestRealDistanceSquared { get; init; }

    /// <summary>Per fake: argmin_j d²(g, r_j) (lowest index on ties).</summary>
    public required int[] FakeNearestRealIndex { get; init; }

    /// <summary>Per real: min_g d²(r, g) as the distance GEMM computed it (float32; not refined).</summary>
    public required float[] RealNearestFakeDistanceSquared { get; init; }

    /// <summary>Per fake: the realism score, when the request asked for it; otherwise null.</summary>
    public float[]? Realism { get; init; }
}
