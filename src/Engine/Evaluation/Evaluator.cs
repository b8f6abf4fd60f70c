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
        if (real.Dim != fake.Dim)
            throw new InputException($"dimension mismatch: {real.Name} has {real.Dim} features per sample, {fake.Name} has {fake.Dim}");

        var groups = options.Groups ?? MetricRegistry.All
            .Where(m => m.WorksFromStatistics || (real.HasFeatures && fake.HasFeatures))
            .Select(m => m.Group).ToList();
        foreach (var g in groups)
        {
            var info = MetricRegistry.Get(g);
            if (info.WorksFromStatistics) continue;
            var statsOnly = !real.HasFeatures ? real : !fake.HasFeatures ? fake : null;
            if (statsOnly is not null)
                throw new InputException($"{statsOnly.Name}: holds statistics (mu, sigma) only; {info.Name} needs per-sample features (only fid can be computed from statistics)");
        }

        var knnGroups = groups.Where(g => MetricRegistry.Get(g).DefaultK is not null).ToList();
        var ksPerGroup = knnGroups.ToDictionary(g => g, g => options.Ks ?? [MetricRegistry.Get(g).DefaultK!.Value]);
        var allKs = ksPerGroup.Values.SelectMany(k => k).Distinct().Order().ToArray();
        bool suffix = options.Ks is { Count: > 1 };

        var result = new EvaluationResult
        {
            NReal = real.Features is { } rf ? rf.Rows : real.Statistics!.Count > 0 ? real.Statistics.Count : null,
            NFake = fake.Features is { } ff ? ff.Rows : fake.Statistics!.Count > 0 ? fake.Statistics.Count : null,
            Dim = real.Dim,
            Ks = allKs,
        };

        if (groups.Contains(MetricGroup.Fid))
        {
            var a = real.Statistics ?? ComputeStatistics(real, options, backend, phases);
            var b = fake.Statistics ?? ComputeStatistics(fake, options, backend, phases);
            phases?.Invoke("fid: trace of the matrix square root");
            result.Add("fid", Fid.FromStatistics(a, b, backend));
        }

        if (groups.Contains(MetricGroup.Kid))
        {
            phases?.Invoke("kid");
            var kid = Kid.Compute(real.Features!, fake.Features!, backend, options.KidSubsets, options.KidSubsetSize, options.Seed);
            result.Add("kid_mean", kid.Mean);
            result.Add("kid_std", kid.Std);
            if (kid.SubsetSize < options.KidSubsetSize)
                result.Notes.Add($"kid: subsets of {kid.SubsetSize} samples (fewer than {options.KidSubsetSize} in one of the sets)");
        }

        if (knnGroups.Count > 0)
        {
            var knn = KnnMetrics.Compute(real.Features!, fake.Features!, allKs, backend, progress: phases?.Invoke("k-NN metrics: radii and cross distances"));
            foreach (var g in knnGroups)
            {
                foreach (int k in ksPerGroup[g])
                {
                    var r = knn.PerK.First(x => x.K == k);
                    string s = suffix ? $"_k{k}" : "";
                    switch (g)
                    {
                        case MetricGroup.Pr:
                            result.Add("precision" + s, r.Precision);
                            result.Add("recall" + s, r.Recall);
                            break;
                        case MetricGroup.Prdc:
                            result.Add("density" + s, r.Density);
                            result.Add("coverage" + s, r.Coverage);
                            break;
                        case MetricGroup.Sym:
                            result.Add("sym_precision" + s, r.SymmetricPrecision);
                            result.Add("sym_recall" + s, r.SymmetricRecall);
                            result.Add("comp_precision" + s, r.ComplementPrecision);
                            break;
                    }
                }
            }
        }
        return result;
    }

    /// <summary>Mean and covariance of one input, from the most exact source it has.</summary>
    public static GaussianStatistics ComputeStatistics(MetricInput input, EvaluationOptions options, IComputeBackend backend, PhaseReporter? phases = null)
    {
        if (input.Statistics is not null) return input.Statistics;
        var progress = phases?.Invoke($"statistics of {input.Name}");
        return backend.ComputeStatistics(input.StatisticsSource!, options.CovarianceDivisor, progress);
    }
}
