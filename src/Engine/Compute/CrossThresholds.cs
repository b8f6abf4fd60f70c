namespace GenMetrics.Compute;

/// <summary>
/// The float32 thresholds of the cross pass's certain decisions, shared by the CPU and CUDA backends: per row,
/// its error term e (rounded up); per radius, the band [radius − e(own row), radius + e(own row)] rounded
/// outwards. A comparison of d̃(g, r) with r's radius is certain when d̃ + e(g) is below the band (inside the
/// ball) or d̃ − e(g) above it (outside); likewise with the roles swapped for g's radius.
/// </summary>
internal sealed class CrossThresholds
{
    // Relative slack of the float32 ratio bounds: four roundings of 2⁻²⁴ each, with room to spare.
    public const float RatioDown = 1 - 1f / (1 << 20);
    public const float RatioUp = 1 + 1f / (1 << 20);

    public CrossThresholds(double[] fakeTerms, double[] realTerms, IReadOnlyList<double[]> realRadii, IReadOnlyList<double[]> fakeRadii, double[]? realismRadii)
    {
        FakeTerms = Array.ConvertAll(fakeTerms, DistanceErrorBound.Up);
        RealTerms = Array.ConvertAll(realTerms, DistanceErrorBound.Up);
        int nk = realRadii.Count;
        RealLow = new float[nk][];
        RealHigh = new float[nk][];
        FakeLow = new float[nk][];
        FakeHigh = new float[nk][];
        for (int q = 0; q < nk; q++)
        {
            (RealLow[q], RealHigh[q]) = Band(realRadii[q], realTerms);
            (FakeLow[q], FakeHigh[q]) = Band(fakeRadii[q], fakeTerms);
        }
        if (realismRadii is not null)
        {
            RealismLow = Array.ConvertAll(realismRadii, DistanceErrorBound.Down);
            RealismHigh = Array.ConvertAll(realismRadii, DistanceErrorBound.Up);
        }
    }

    public float[] FakeTerms { get; }
    public float[] RealTerms { get; }
    public float[][] RealLow { get; }
    public float[][] RealHigh { get; }
    public float[][] FakeLow { get; }
    public float[][] FakeHigh { get; }
    public float[]? RealismLow { get; }
    public float[]? RealismHigh { get; }

    private static (float[] Low, float[] High) Band(double[] radii, double[] terms)
    {
        var low = new float[radii.Length];
        var high = new float[radii.Length];
        for (int i = 0; i < radii.Length; i++)
        {
            low[i] = DistanceErrorBound.Down(radii[i] - terms[i]);
            high[i] = DistanceErrorBound.Up(radii[i] + terms[i]);
        }
        return (low, high);
    }
}
