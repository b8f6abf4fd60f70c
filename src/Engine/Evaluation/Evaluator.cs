using System.Globalization;
using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Evaluation;

/// <summary>
/// The one managed entry point behind `genmetrics metrics` and the C API: computes the asked metric
/// groups for a real and a generated set, sharing work between them (the k-NN groups share one radii
/// computation per set and one cross-distance pass for all k).
/// </summary>
public static class Evaluator
{
    /// <summary>Reports the phase being worked on and a progress sink for it.</summary>
    public delegate IProgress<double>? PhaseReporter(string phase);

    public static EvaluationResult Evaluate(MetricInput real, MetricInput fake, EvaluationOptions options, IComputeBackend backend, PhaseReporter? phases = null)
    {
        var ksAsked = options.Ks?.Distinct().ToArray(); // `--k 3,3` is k = 3 once, not every key twice
        var skipped = new List<string>();
        // Without --metrics: every group of the convention (all groups by default) that the inputs and their sizes allow.
        var candidates = options.Convention?.Convention.Groups ?? MetricRegistry.All.Select(m => m.Group).ToList();
        var groups = options.Groups ?? SampleRequirements.Allowed(candidates.Where(g => Available(g, real) && Available(g, fake)), real, fake, ksAsked, skipped);
        if (groups.Count == 0 && options.Convention is { Named: true, Convention.Groups: { } own })
            throw new InputException($"{real.Name}, {fake.Name}: none of {options.Convention.Convention.Name}'s metrics ({string.Join(",", own.Select(g => MetricRegistry.Get(g).Name))}) can be computed from these inputs (statistics give fid only)");
        if (groups.Count == 0) throw new InputException($"no metric can be computed from {real.Name} and {fake.Name}");
        foreach (var g in groups)
        {
            var info = MetricRegistry.Get(g);
            var missing = !Available(g, real) ? real : !Available(g, fake) ? fake : null;
            if (missing is null) continue;
            if (missing.Statistics is not null)
                throw new InputException($"{missing.Name}: holds statistics (mu, sigma) only; {info.Name} needs per-sample features (only fid can be computed from statistics)");
            throw new InputException($"{missing.Name}: no features for {info.Name} ({(IsKnn(g) ? "the k-NN metrics use VGG-16 features: genmetrics models install vgg16" : "FID and KID use Inception features: genmetrics models install inception")})");
        }
        bool wantsGaussian = groups.Any(g => !IsKnn(g));
        bool wantsKnn = groups.Any(IsKnn);
        if (wantsGaussian && real.Dim != fake.Dim)
            throw new InputException($"dimension mismatch: {real.Name} has {real.Dim} features per sample, {fake.Name} has {fake.Dim}");
        if (wantsKnn && real.KnnFeatures!.Dim != fake.KnnFeatures!.Dim)
            throw new InputException($"dimension mismatch: {real.Name} has {real.KnnFeatures.Dim} features per sample, {fake.Name} has {fake.KnnFeatures.Dim}");

        var knnGroups = groups.Where(g => MetricRegistry.Get(g).DefaultK is not null).ToList();
        var ksPerGroup = knnGroups.ToDictionary(g => g, g => ksAsked ?? [MetricRegistry.Get(g).DefaultK!.Value]);
        var allKs = ksPerGroup.Values.SelectMany(k => k).Distinct().Order().ToArray();
        bool suffix = ksAsked is { Length: > 1 };
        // The size checks of KID and the k-NN metrics, before any work starts (and before a caller's first
        // phase, which is when the CLI prints how the computation runs): an input error stays one line.
        if (groups.Contains(MetricGroup.Kid))
            Kid.Validate(real.Features!, fake.Features!, options.KidSubsets, options.KidSubsetSize, options.Seed, options.KidSmallSets);
        if (knnGroups.Count > 0)
        {
            KnnMetrics.ValidateSets(real.KnnFeatures!, fake.KnnFeatures!);
            GenMetrics.Compute.CpuBackend.ValidateKs(real.KnnFeatures!, allKs);
            GenMetrics.Compute.CpuBackend.ValidateKs(fake.KnnFeatures!, allKs);
        }

        var result = new EvaluationResult
        {
            NReal = (real.Features ?? real.KnnFeatures) is { } rf ? rf.Rows : real.Statistics!.Count > 0 ? real.Statistics.Count : null,
            NFake = (fake.Features ?? fake.KnnFeatures) is { } ff ? ff.Rows : fake.Statistics!.Count > 0 ? fake.Statistics.Count : null,
            Dim = real.Dim,
            Ks = allKs,
            DistancePrecision = backend.DistancePrecision == "fp32" ? null : backend.DistancePrecision,
            FeatureNetworks = real.Networks.Union(fake.Networks).ToList(),
        };
        if (options.Convention is { } convention)
        {
            result.Convention = convention.Convention.Name;
            bool images = real.IsImages || fake.IsImages;
            result.Choices = convention.ChoicesFor(groups, images, real.OwnNetwork ?? fake.OwnNetwork);
            result.GenMetricsDefaults = convention.DefaultKeys(result.Choices, groups);
            result.Notes.AddRange(convention.DifferencesFor(groups, images).Select(d => $"{convention.Convention.Name} differs: {d}"));
        }
        result.Notes.AddRange(skipped);

        if (groups.Contains(MetricGroup.Fid))
        {
            var a = real.Statistics ?? ComputeStatistics(real, options, backend, phases);
            var b = fake.Statistics ?? ComputeStatistics(fake, options, backend, phases);
            phases?.Invoke("fid: trace of the matrix square root");
            result.Add(MetricRegistry.Fid, Fid.FromStatistics(a, b, backend));
        }

        if (groups.Contains(MetricGroup.Kid))
        {
            phases?.Invoke("kid");
            var kid = Kid.Compute(real.Features!, fake.Features!, backend, options.KidSubsets, options.KidSubsetSize, options.Seed,
                options.KidDrawOrder, options.KidSmallSets);
            result.Add(MetricRegistry.KidMean, kid.Mean);
            result.Add(MetricRegistry.KidStd, kid.Std);
            if (kid.SubsetSize < options.KidSubsetSize)
                result.Notes.Add($"kid: subsets of {kid.SubsetSize} samples (fewer than {options.KidSubsetSize} in one of the sets)");
        }

        if (knnGroups.Count > 0)
        {
            var knn = KnnMetrics.Compute(real.KnnFeatures!, fake.KnnFeatures!, allKs, backend, progress: phases?.Invoke("k-NN metrics: radii and cross distances"));
            KnnMetricsResult? reference = null;
            MembershipComparison? comparison = null;
            if (result.DistancePrecision is not null && options.CompareWithFp32)
                (reference, comparison) = CompareWithFp32(real, fake, allKs, backend, knn, phases);
            foreach (var g in knnGroups)
            {
                foreach (int k in ksPerGroup[g])
                {
                    var r = knn.PerK.First(x => x.K == k);
                    string s = suffix ? $"_k{k}" : "";
                    foreach (var key in MetricRegistry.Get(g).KeyInfo) result.Add(key.Name + s, key.FromKnn!(r));
                }
            }
            // k-NN decisions (comparisons and radii) the distance GEMM's error bound could not settle, decided in float64.
            result.Add(MetricRegistry.RefinedDecisions, knn.Refinement.Decisions);
            if (PhaseTrace.Enabled)
                PhaseTrace.Mark(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"k-NN refinement: {knn.Refinement.Decisions} decisions, {knn.Refinement.Float64Distances} float64 distances, {knn.Refinement.Seconds:F3} s"));
            if (comparison is not null)
            {
                result.Add(MetricRegistry.MembershipDecisions, comparison.Compared);
                result.Add(MetricRegistry.MembershipChanged, comparison.Changed);
                result.Add(MetricRegistry.MembershipChangedFraction, comparison.ChangedFraction);
                result.Notes.Add(DescribeComparison(result.DistancePrecision!, comparison, knn, reference!));
            }
            else if (result.DistancePrecision is not null)
            {
                result.Notes.Add($"k-NN distance GEMMs in {result.DistancePrecision}; every decision exact (float64 refinement); not compared with fp32 (--fp32-check)");
            }
        }
        return result;
    }

    /// <summary>The same k-NN pass on the backend's fp32 twin, and how many decisions differ from it.</summary>
    private static (KnnMetricsResult? Reference, MembershipComparison? Comparison) CompareWithFp32(
        MetricInput real, MetricInput fake, IReadOnlyList<int> ks, IComputeBackend backend, KnnMetricsResult knn, PhaseReporter? phases)
    {
        using var twin = backend.CreateFp32Twin();
        if (twin is null || knn.Decisions is null) return (null, null);
        var reference = KnnMetrics.Compute(real.KnnFeatures!, fake.KnnFeatures!, ks, twin,
            progress: phases?.Invoke($"k-NN metrics again in fp32, to count what {backend.DistancePrecision} changed"));
        return (reference, knn.Decisions.CompareWith(reference.Decisions!));
    }

    private static string DescribeComparison(string precision, MembershipComparison c, KnnMetricsResult knn, KnnMetricsResult reference)
    {
        var first = knn.PerK[0];
        var exact = reference.PerK[0];
        return string.Create(CultureInfo.InvariantCulture,
            $"{precision}: {c.Changed} of {c.Compared} membership decisions ({100 * c.ChangedFraction:0.####}%) differ from fp32; " +
            $"at k = {first.K} precision {first.Precision:0.000000} (fp32 {exact.Precision:0.000000}), recall {first.Recall:0.000000} (fp32 {exact.Recall:0.000000})");
    }

    private static bool IsKnn(MetricGroup g) => MetricRegistry.Get(g).DefaultK is not null;

    /// <summary>Whether an input has what a metric group needs: statistics or features for FID, k-NN features for the k-NN groups.</summary>
    private static bool Available(MetricGroup g, MetricInput input) => g switch
    {
        MetricGroup.Fid => input.Statistics is not null || input.Features is not null,
        MetricGroup.Kid => input.Features is not null,
        _ => input.KnnFeatures is not null,
    };

    /// <summary>Mean and covariance of one input, from the most exact source it has.</summary>
    public static GaussianStatistics ComputeStatistics(MetricInput input, EvaluationOptions options, IComputeBackend backend, PhaseReporter? phases = null)
    {
        if (input.Statistics is not null) return input.Statistics;
        var progress = phases?.Invoke($"statistics of {input.Name}");
        return backend.ComputeStatistics(input.StatisticsSource!, options.CovarianceDivisor, progress);
    }
}
