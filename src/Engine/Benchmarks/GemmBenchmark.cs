using System.Diagnostics;
using GenMetrics.Compute;
using GenMetrics.Compute.Gemm;
using GenMetrics.Features;

namespace GenMetrics.Benchmarks;

/// <summary>
/// CPU SGEMM rates: the all-core <see cref="CpuBackend.MultiplyTransposed"/> (KID) and the distance tile
/// engine run the way the k-NN metrics run it (parallel over tiles, one worker per thread).
/// GFLOP/s counts 2·M·N·K; perf/NOTES.md compares them with OpenBLAS on the same machine.
/// </summary>
public static class GemmBenchmark
{
    public static IReadOnlyList<BenchmarkResult> Run(BenchmarkOptions options, Action<BenchmarkResult>? onResult = null)
    {
        int n = options.Quick ? 2048 : 8192;
        int k = options.Quick ? 512 : 2048;
        int repeats = Math.Max(1, options.Repeats);
        var rng = new System.Random(options.Seed);
        var a = RandomMatrix(rng, n, k);
        var b = RandomMatrix(rng, n, k);
        var backend = new CpuBackend();
        string isa = SgemmKernels.Best.ToString();
        double flops = 2.0 * n * n * k;
        string sizes = $"M={n} N={n} K={k}";
        var results = new BenchmarkResults(onResult);

        var c = new float[(long)n * n];
        double seconds = MedianSeconds(repeats, () => backend.MultiplyTransposed(a, n, b, n, k, c));
        results.Add(new BenchmarkResult("sgemm A·Bᵀ (MultiplyTransposed)", backend.Name, sizes, seconds, repeats,
            flops / seconds / 1e9, Note: $"{Environment.ProcessorCount} threads, {isa} kernel"));

        var x = new FeatureMatrix(a, n, k, "random A");
        var y = new FeatureMatrix(b, n, k, "random B");
        var tiles = new SquaredDistanceTiles(x, y, shift: new float[k]);
        int rowBlock = SquaredDistanceTiles.PreferredRowBlock, colBlock = SquaredDistanceTiles.PreferredColBlock;
        int rowTiles = (n + rowBlock - 1) / rowBlock, colTiles = (n + colBlock - 1) / colBlock;
        seconds = MedianSeconds(repeats, () => Parallel.For(0, rowTiles * colTiles,
            () => (Worker: tiles.CreateWorker(), Tile: new float[rowBlock * colBlock]),
            (t, _, local) =>
            {
                int r0 = t / colTiles * rowBlock, c0 = t % colTiles * colBlock;
                local.Worker.Compute(r0, Math.Min(rowBlock, n - r0), c0, Math.Min(colBlock, n - c0), local.Tile);
                return local;
            },
            _ => { }));
        results.Add(new BenchmarkResult("squared distance tiles", backend.Name, sizes, seconds, repeats,
            flops / seconds / 1e9,
            Note: $"{rowBlock}x{colBlock} tiles, shifted, {Environment.ProcessorCount} threads, {isa} kernel"));
        return results.All;
    }

    private static float[] RandomMatrix(System.Random rng, int rows, int cols)
    {
        var data = new float[(long)rows * cols];
        for (long i = 0; i < data.LongLength; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return data;
    }

    private static double MedianSeconds(int repeats, Action action)
    {
        action();  // warm-up: JIT (tiered up to the optimised kernel), thread pool, page faults on C
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
