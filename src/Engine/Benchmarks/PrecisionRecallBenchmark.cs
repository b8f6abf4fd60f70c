using System.Diagnostics;
using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Benchmarks;

/// <summary>
/// Improved precision &amp; recall (k = 3) end to end on random features: real radii, fake radii and the
/// cross pass. Useful work = 3 distance sets x 2·N²·D flops (the Gram products; reductions not counted).
/// Two kinds of data per size: continuous (post-ReLU-like floats) and small integers 0..16 (quantised
/// descriptors, pixels), where many distances tie exactly with a radius. Each line's note gives the float64
/// refinement that made the decisions exact: decisions refined, float64 distances and their time (the cross
/// pass's in-tile share is thread time over threads) as a share of the run.
/// </summary>
public static class PrecisionRecallBenchmark
{
    public static IReadOnlyList<BenchmarkResult> Run(BenchmarkOptions options, IComputeBackend backend, Action<BenchmarkResult>? onResult = null)
    {
        (int N, int D)[] sizes = options.Samples is int samples
            ? (options.Dims ?? [512]).Select(d => (samples, d)).ToArray()
            : options.Quick
                ? [(2_000, 512)]
                : [(10_000, 2048), (10_000, 4096), (50_000, 2048), (50_000, 4096)];
        var results = new BenchmarkResults(onResult);
        foreach (var (n, dim) in sizes)
        foreach (bool integer in new[] { false, true })
        {
            var real = integer ? IntegerFeatures(n, dim, options.Seed) : RandomFeatures(n, dim, options.Seed, 0f);
            var fake = integer ? IntegerFeatures(n, dim, options.Seed + 1) : RandomFeatures(n, dim, options.Seed + 1, 0.05f);
            // The full sizes take minutes to hours on a small CPU: one timed run, no warm-up.
            int repeats = options.Quick ? Math.Max(1, options.Repeats) : 1;
            if (options.Quick) KnnMetrics.Compute(real, fake, [3], backend);
            var seconds = new double[repeats];
            KnnMetricsResult? last = null;
            double lastSeconds = 0;
            for (int r = 0; r < repeats; r++)
            {
                var watch = Stopwatch.StartNew();
                last = KnnMetrics.Compute(real, fake, [3], backend);
                seconds[r] = lastSeconds = watch.Elapsed.TotalSeconds;
            }
            Array.Sort(seconds);
            double median = seconds[repeats / 2];
            double flops = 3 * 2.0 * n * (double)n * dim;
            var at = last!.PerK[0];
            var refined = last.Refinement;
            var result = new BenchmarkResult(
                Name: integer ? "precision-recall k=3, integer data" : "precision-recall k=3",
                Backend: backend.Name,
                Sizes: $"N={n} D={dim}",
                Seconds: median,
                Repeats: repeats,
                Gflops: flops / median / 1e9,
                Note: string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"P={at.Precision:F4} R={at.Recall:F4}; refinement: {refined.Decisions} decisions, {refined.Float64Distances} float64 distances, " +
                    $"{refined.Seconds:F3} s ({100 * refined.Seconds / lastSeconds:F2}% of the last run)"));
            results.Add(result);
        }
        return results.All;
    }

    // Small integers 0..16 (like sklearn's digits or quantised descriptors): distances are integers, ties abound.
    private static FeatureMatrix IntegerFeatures(int rows, int dim, int seed)
    {
        var rng = new System.Random(seed);
        var data = new float[(long)rows * dim];
        for (long i = 0; i < data.LongLength; i++) data[i] = rng.Next(17);
        return new FeatureMatrix(data, rows, dim, $"integers[{rows}x{dim}]");
    }

    // Non-negative features with a shared offset, like post-ReLU VGG16 fc2 activations.
    private static FeatureMatrix RandomFeatures(int rows, int dim, int seed, float shift)
    {
        var rng = new System.Random(seed);
        var data = new float[(long)rows * dim];
        for (long i = 0; i < data.LongLength; i++) data[i] = MathF.Max(0f, (float)rng.NextDouble() * 2f - 0.5f + shift);
        return new FeatureMatrix(data, rows, dim, $"random[{rows}x{dim}]");
    }
}
