using GenMetrics.Compute;
using GenMetrics.Features;

namespace GenMetrics.Metrics;

/// <summary>
/// Kynkäänniemi et al.'s realism score, kynkaat variant (metrics-spec §7): real squared k-NN radii above
/// the 50th percentile are set to 0, then RS(g) = max_j r²_j / (d²(g, r_j) + 1e-5). Squared values, as
/// in the code (the paper writes plain norms; the ranking is the same).
/// </summary>
public static class Realism
{
    public const int DefaultK = 3;
    public const double DefaultPercentile = 50;
    public const float DefaultEpsilon = 1e-5f;

    /// <summary>Realism score of every fake sample against the real set.</summary>
    public static RealismScores Scores(
        FeatureMatrix real,
        FeatureMatrix fake,
        IComputeBackend backend,
        int k = DefaultK,
        double percentile = DefaultPercentile,
        float epsilon = DefaultEpsilon,
        IProgress<double>? progress = null)
    {
        KnnMetrics.ValidateSets(real, fake);
        FeatureMagnitude.EnsureDistancesFit("realism distances", real, fake);
        if (percentile is < 0 or > 100 || double.IsNaN(percentile))
            throw new InputException($"realism percentile must be within [0, 100], got {percentile}");
        var radii = backend.KnnRadiiSquared(real, [k], ProgressSlice.Of(progress, 0, 0.5))[0];
        // No k-NN metric is asked for: empty radii lists make the cross pass compute only realism.
        var cross = backend.ReduceCrossDistances(fake, real, new CrossRequest
        {
            RealRadiiSquared = [],
            FakeRadiiSquared = [],
            RealismRadiiSquared = PruneRadii(radii, percentile),
            RealismEpsilon = epsilon,
        }, ProgressSlice.Of(progress, 0.5, 0.5));
        // Distances that overflow float32 (features of magnitude ~1e19 and up) give NaN or infinite scores:
        // an error naming the stage and the first sample, never a file of NaNs.
        int bad = Array.FindIndex(cross.Realism!, v => !float.IsFinite(v));
        if (bad >= 0)
            throw InputException.For(fake.Name, $"realism: the score of sample {bad} came out {cross.Realism![bad]}: the distances overflowed float32 (features of very large magnitude; rescale them)");
        return new RealismScores(cross.Realism!, k, percentile, epsilon);
    }

    /// <summary>
    /// The StyleGAN2-TF variant (metrics-spec §7): RS(g) = r²_{j*} / d²(g, r_{j*}) with j* the nearest real
    /// (lowest index on ties), no pruning and no epsilon, so a fake that duplicates a real scores +∞
    /// (or NaN when that real's radius is 0 too, as 0/0 in the reference).
    /// </summary>
    public static float[] NearestNeighbourScores(
        FeatureMatrix real,
        FeatureMatrix fake,
        IComputeBackend backend,
        int k = DefaultK,
        IProgress<double>? progress = null)
    {
        KnnMetrics.ValidateSets(real, fake);
        FeatureMagnitude.EnsureDistancesFit("realism distances", real, fake);
        var radii = backend.KnnRadiiSquared(real, [k], ProgressSlice.Of(progress, 0, 0.5))[0];
        var cross = backend.ReduceCrossDistances(fake, real, new CrossRequest
        {
            RealRadiiSquared = [],
            FakeRadiiSquared = [],
        }, ProgressSlice.Of(progress, 0.5, 0.5));
        var scores = new float[fake.Rows];
        // StyleGAN2-TF's own variant is float16 arithmetic; the nearest real here is the float32 GEMM's (not refined).
        for (int g = 0; g < scores.Length; g++)
            scores[g] = (float)radii[cross.FakeNearestRealIndex[g]] / cross.FakeNearestRealDistanceSquared[g];
        return scores;
    }

    /// <summary>
    /// kynkaat's clamp_to_percentile: a copy of the radii where every value strictly above the given
    /// percentile (np.percentile, linear interpolation) is set to 0, so outlying reals with huge balls
    /// cannot make everything look realistic.
    /// </summary>
    public static double[] PruneRadii(double[] radiiSquared, double percentile)
    {
        double threshold = Percentile(radiiSquared, percentile);
        var pruned = new double[radiiSquared.Length];
        for (int i = 0; i < pruned.Length; i++) pruned[i] = radiiSquared[i] > threshold ? 0 : radiiSquared[i];
        return pruned;
    }

    /// <summary>np.percentile(values, q) with the default linear interpolation between order statistics, in float64.</summary>
    public static double Percentile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double position = (sorted.Length - 1) * (q / 100.0);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        double fraction = position - lower;
        double a = sorted[lower], b = sorted[upper];
        // NumPy (≥ 1.22) interpolates from the nearer end so that the result is monotonic in q.
        return fraction >= 0.5 ? b - (b - a) * (1 - fraction) : a + (b - a) * fraction;
    }
}
