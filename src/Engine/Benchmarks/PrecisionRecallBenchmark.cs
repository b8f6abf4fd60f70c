using System.Diagnostics;
using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Benchmarks;

/// <summary>
/// Improved precision &amp; recall (k = 3) end to end on random features: real radii, fake radii and the
/// cross pass. Useful work = 3 distance sets x 2·N²·D flops (the Gram products; reductions not counted).
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
        {
            var real = RandomFeatures(n, dim, options.Seed, 0f);
            var fake = RandomFeatures(n, dim, options.Seed + 1, 0.05f);
            // The full sizes take minutes to hours on a small CPU: one timed run, no warm-up.
            int repeats = options.Quick ? Math.Max(1, options.Repeats) : 1;
            if (options.Quick) KnnMetrics.Compute(real, fake, [3], backend);
            var seconds = new double[repeats];
            KnnMetricsAtK? last = null;
            for (int r = 0; r < repeats; r++)
            {
                var watch = Stopwatch.StartNew();
                last = KnnMetrics.Compute(real, fake, [3], backend).PerK[0];
                seconds[r] = watch.Elapsed.TotalSeconds;
            }
            Array.Sort(seconds);
            double median = seconds[repeats / 2];
            double flops = 3 * 2.0 * n * (double)n * dim;
            var result = new BenchmarkResult(
                Name: "precision-recall k=3",
                Backend: backend.Name,
                Sizes: $"N={n} D={dim}",
                Seconds: median,
                Repeats: repeats,
                Gflops: flops / median / 1e9,
                Note: $"P={last!.Precision:F4} R={last.Recall:F4}");
            results.Add(result);
        }
        return results.All;
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
