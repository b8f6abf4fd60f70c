using GenMetrics.Compute;
using GenMetrics.Features;

namespace GenMetrics.Metrics;

/// <summary>
/// Every k-NN metric for one neighbourhood size k (metrics-spec §6, §8, §9). All come from the same
/// radii and the same fake x real pass; they differ only in the comparison (≤ or strict &lt;) and in
/// what is counted.
/// </summary>
/// <param name="K">The neighbourhood size.</param>
/// <param name="Precision">NVIDIA improved precision (kynkaat, StyleGAN2, torch-fidelity): fraction of fakes with d²(g, r_j) ≤ r²_j(k) for some real j.</param>
/// <param name="Recall">NVIDIA improved recall: fraction of reals with d²(r, g) ≤ ρ²_g(k) for some fake g.</param>
/// <param name="PrdcPrecision">prdc precision: as <see cref="Precision"/> with strict &lt; (also manifmetric's precision).</param>
/// <param name="PrdcRecall">prdc recall: as <see cref="Recall"/> with strict &lt; (also manifmetric's recall).</param>
/// <param name="Density">prdc density: (1/k)·mean over fakes of #{j : d²(g, r_j) &lt; r²_j(k)}; can exceed 1.</param>
/// <param name="Coverage">prdc coverage: fraction of reals whose nearest fake lies strictly inside the real's own k-NN ball.</param>
/// <param name="ComplementPrecision">manifmetric comp_precision: fraction of fakes whose nearest real lies strictly inside the fake's own k-NN ball.</param>
/// <param name="SymmetricPrecision">manifmetric sym_precision = min(PrdcPrecision, ComplementPrecision).</param>
/// <param name="SymmetricRecall">manifmetric sym_recall = min(PrdcRecall, Coverage).</param>
public sealed record KnnMetricsAtK(
    int K,
    double Precision,
    double Recall,
    double PrdcPrecision,
    double PrdcRecall,
    double Density,
    double Coverage,
    double ComplementPrecision,
    double SymmetricPrecision,
    double SymmetricRecall)
{
    /// <summary>torch-fidelity's F-score of the NVIDIA precision and recall: 2PR / max(1e-5, P + R).</summary>
    public double FScore => 2 * Precision * Recall / Math.Max(1e-5, Precision + Recall);
}

/// <summary>Kynkäänniemi realism scores, one per fake sample (metrics-spec §7, kynkaat variant).</summary>
public sealed record RealismScores(float[] Scores, int K, double Percentile, float Epsilon);

/// <summary>The k-NN metrics for every requested k, and realism scores when asked for.</summary>
public sealed record KnnMetricsResult(IReadOnlyList<KnnMetricsAtK> PerK, int RealCount, int FakeCount, RealismScores? Realism)
{
    /// <summary>The per-sample decisions the metrics were counted from (for comparing arithmetic precisions).</summary>
    public MembershipDecisions? Decisions { get; init; }

    /// <summary>
    /// The float64 refinement that made every decision exact: radii of both sets and the cross pass together
    /// (<see cref="RefinementCounts.Decisions"/> is the `refined_decisions` result key).
    /// </summary>
    public RefinementCounts Refinement { get; init; } = RefinementCounts.None;
}

/// <summary>
/// The shared entry point of all k-NN metrics: real radii and fake radii (one pass each, all k at once)
/// and ONE fake x real pass, from which NVIDIA P/R, prdc P/R/density/coverage, manifmetric symmetric
/// P/R and (optionally) realism are all derived.
/// </summary>
public static class KnnMetrics
{
    public static KnnMetricsResult Compute(
        FeatureMatrix real,
        FeatureMatrix fake,
        IReadOnlyList<int> ks,
        IComputeBackend backend,
        bool realism = false,
        int realismK = Metrics.Realism.DefaultK,
        IProgress<double>? progress = null)
    {
        ValidateSets(real, fake);
        FeatureMagnitude.EnsureDistancesFit("k-NN distances", real, fake);
        if (ks.Count == 0) throw new InputException("at least one k is needed");

        // Three passes over the same two sets: a GPU backend uploads each once for all three.
        using var retained = backend.RetainInputs(real, fake);
        var radiiKs = ks.ToList();
        if (realism && !radiiKs.Contains(realismK)) radiiKs.Add(realismK);
        var realRadiiAll = backend.KnnRadiiSquared(real, radiiKs, ProgressSlice.Of(progress, 0, 1 / 3.0));
        var fakeRadii = backend.KnnRadiiSquared(fake, ks, ProgressSlice.Of(progress, 1 / 3.0, 1 / 3.0));
        var realRadii = realRadiiAll.Take(ks.Count).ToArray();

        double[]? realismRadii = realism
            ? Metrics.Realism.PruneRadii(realRadiiAll[radiiKs.IndexOf(realismK)], Metrics.Realism.DefaultPercentile)
            : null;
        var cross = backend.ReduceCrossDistances(fake, real, new CrossRequest
        {
            RealRadiiSquared = realRadii,
            FakeRadiiSquared = fakeRadii,
            RealismRadiiSquared = realismRadii,
            RealismEpsilon = Metrics.Realism.DefaultEpsilon,
        }, ProgressSlice.Of(progress, 2 / 3.0, 1 / 3.0));

        var perK = new KnnMetricsAtK[ks.Count];
        for (int q = 0; q < ks.Count; q++) perK[q] = FromReductions(ks[q], cross, q, real.Rows, fake.Rows);
        var scores = cross.Realism is null
            ? null
            : new RealismScores(cross.Realism, realismK, Metrics.Realism.DefaultPercentile, Metrics.Realism.DefaultEpsilon);
        return new KnnMetricsResult(perK, real.Rows, fake.Rows, scores)
        {
            Decisions = MembershipDecisions.From(ks, cross),
            Refinement = realRadiiAll.Refinement + fakeRadii.Refinement + cross.Refinement,
        };
    }

    private static KnnMetricsAtK FromReductions(int k, CrossReductions cross, int q, int nReal, int nFake)
    {
        long fakesInsideLe = 0, fakesInsideLt = 0, insideCountLt = 0, fakesCoveringReal = 0;
        for (int g = 0; g < nFake; g++)
        {
            if (cross.FakeInsideRealCountLe[q][g] > 0) fakesInsideLe++;
            if (cross.FakeInsideRealCountLt[q][g] > 0) fakesInsideLt++;
            insideCountLt += cross.FakeInsideRealCountLt[q][g];
            if (cross.FakeComplementLt[q][g]) fakesCoveringReal++;
        }
        long realsInsideLe = 0, realsInsideLt = 0, realsCovered = 0;
        for (int r = 0; r < nReal; r++)
        {
            if (cross.RealInsideFakeLe[q][r]) realsInsideLe++;
            if (cross.RealInsideFakeLt[q][r]) realsInsideLt++;
            if (cross.RealCoveredLt[q][r]) realsCovered++;
        }
        double prdcPrecision = (double)fakesInsideLt / nFake;
        double prdcRecall = (double)realsInsideLt / nReal;
        double coverage = (double)realsCovered / nReal;
        double complementPrecision = (double)fakesCoveringReal / nFake;
        return new KnnMetricsAtK(
            K: k,
            Precision: (double)fakesInsideLe / nFake,
            Recall: (double)realsInsideLe / nReal,
            PrdcPrecision: prdcPrecision,
            PrdcRecall: prdcRecall,
            Density: (double)insideCountLt / ((double)k * nFake),
            Coverage: coverage,
            ComplementPrecision: complementPrecision,
            SymmetricPrecision: Math.Min(prdcPrecision, complementPrecision),
            SymmetricRecall: Math.Min(prdcRecall, coverage));
    }

    internal static void ValidateSets(FeatureMatrix real, FeatureMatrix fake)
    {
        if (real.Dim != fake.Dim)
            throw new InputException($"{real.Name} has {real.Dim} features per row, {fake.Name} has {fake.Dim}: dimensions must match");
        real.EnsureFinite();
        fake.EnsureFinite();
    }
}

/// <summary>Maps a sub-task's progress 0..1 onto [start, start + width] of the caller's progress.</summary>
internal sealed class ProgressSlice(IProgress<double> outer, double start, double width) : IProgress<double>
{
    public static IProgress<double>? Of(IProgress<double>? outer, double start, double width) =>
        outer is null ? null : new ProgressSlice(outer, start, width);

    public void Report(double value) => outer.Report(start + width * value);
}
