using System.Diagnostics;
using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Linalg;
using GenMetrics.Metrics;

namespace GenMetrics.Benchmarks;

/// <summary>
/// CPU FID costs: FID from two 2048-d statistics (the O(D³) square-root trace), its parts (pivoted
/// Cholesky, the congruence GEMMs, the eigenvalues), and statistics from 10k x 2048 features (a SYRK).
/// Inputs are covariances of random correlated features (full rank, spread spectrum like Inception's),
/// built outside the timed region.
/// </summary>
public static class FidBenchmark
{
    public static IReadOnlyList<BenchmarkResult> Run(BenchmarkOptions options, Action<BenchmarkResult>? onResult = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var backend = new CpuBackend();
        int dim = options.Quick ? 512 : 2048;
        int rows = options.Quick ? 2000 : 10000;
        int repeats = Math.Max(1, options.Repeats);
        var results = new BenchmarkResults(onResult);

        var fa = RandomFeatures(rows, dim, options.Seed, "a");
        var fb = RandomFeatures(rows, dim, options.Seed + 1, "b");

        double statsSeconds = Median(repeats, () => backend.ComputeStatistics(fa, CovarianceDivisor.NMinusOne));
        // The useful work is the lower triangle of Xᵀ X: N·D·(D+1) flops.
        results.Add(new BenchmarkResult("fid-statistics", backend.Name, $"{rows}x{dim}", statsSeconds, repeats,
            (double)rows * dim * (dim + 1) / statsSeconds / 1e9, Note: "mean + covariance, float64, streamed in 1024-row blocks"));

        var sa = backend.ComputeStatistics(fa, CovarianceDivisor.NMinusOne);
        var sb = backend.ComputeStatistics(fb, CovarianceDivisor.NMinusOne);
        double fid = 0;
        double fidSeconds = Median(repeats, () => fid = Fid.FromStatistics(sa, sb, backend));
        results.Add(new BenchmarkResult("fid-from-statistics", backend.Name, $"D={dim}", fidSeconds, repeats,
            Note: $"Cholesky (blocked; pivoted when singular) + Lᵀ Σ L + symmetric eigenvalues; FID = {fid:G10}"));

        double blockedSeconds = Median(repeats, () => BlockedCholesky.TryFactor((double[])sb.Covariance.Clone(), dim));
        results.Add(new BenchmarkResult("fid-cholesky", backend.Name, $"D={dim}", blockedSeconds, repeats,
            (double)dim * dim * dim / 3 / blockedSeconds / 1e9, Note: "blocked, no pivoting (full-rank statistics); includes one D x D copy"));

        double cholSeconds = Median(repeats, () => PivotedCholesky.Factor((double[])sb.Covariance.Clone(), dim, new int[dim]));
        results.Add(new BenchmarkResult("fid-pivoted-cholesky", backend.Name, $"D={dim}", cholSeconds, repeats,
            (double)dim * dim * dim / 3 / cholSeconds / 1e9, Note: "the route for singular statistics; includes one D x D copy"));

        var x = sa.Covariance;
        var c = new double[(long)dim * dim];
        double gemmSeconds = Median(repeats, () => Dgemm.MultiplyAdd(dim, dim, dim, 1.0, x, 0, dim, 1, x, 0, dim, 1, c, 0, dim));
        results.Add(new BenchmarkResult("fid-dgemm", backend.Name, $"{dim}^3", gemmSeconds, repeats,
            2.0 * dim * dim * dim / gemmSeconds / 1e9));

        double eigSeconds = Median(repeats, () => SymmetricEigenvalues.Compute((double[])sb.Covariance.Clone(), dim));
        results.Add(new BenchmarkResult("fid-eigenvalues", backend.Name, $"D={dim}", eigSeconds, repeats,
            4.0 / 3 * dim * dim * dim / eigSeconds / 1e9, Note: "tridiagonalisation (4/3 D³ flops) + QL"));
        return results.All;
    }

    /// <summary>Correlated features with a decaying spectrum: x = z·S·M with S geometric from 1 to 1e-2.</summary>
    private static FeatureMatrix RandomFeatures(int rows, int dim, int seed, string name)
    {
        var rng = new System.Random(seed);
        var data = new float[(long)rows * dim];
        var scales = new double[dim];
        for (int j = 0; j < dim; j++) scales[j] = Math.Pow(1e-2, (double)j / dim);
        var row = new double[dim];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < dim; j++)
            {
                double u = 1 - rng.NextDouble(), v = rng.NextDouble();
                row[j] = Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v) * scales[j];
            }
            // A cheap mixing so that features are correlated: running sum over a few neighbours.
            double carry = 0;
            for (int j = 0; j < dim; j++)
            {
                carry = 0.7 * carry + row[j];
                data[(long)r * dim + j] = (float)(carry + 0.3);
            }
        }
        return new FeatureMatrix(data, rows, dim, name);
    }

    private static double Median(int repeats, Action action)
    {
        action(); // warm-up (JIT, page faults)
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
