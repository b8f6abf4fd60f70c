using System.Diagnostics;
using System.Globalization;
using GenMetrics.Compute;
using GenMetrics.Cuda;
using GenMetrics.Cuda.Interop;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Benchmarks;

/// <summary>
/// CUDA figures for `genmetrics bench`: the distance tile engine against the measured cuBLAS SGEMM peak,
/// precision/recall at N = 50k, FID from features and from statistics. Times are CUDA event intervals on
/// the backend's stream around whole backend calls, median of the repeats after one warm-up. The peak GEMM
/// multiplies random matrices; the tile line keeps both sets resident and the upload has its own line (GB/s);
/// the FID-from-statistics line says how the square root was reached (route, Newton–Schulz iterations).
/// </summary>
public static class CudaBenchmark
{
    public static IReadOnlyList<BenchmarkResult> Run(BenchmarkOptions options, IComputeBackend cudaBackend) =>
        Run(options, cudaBackend, profile: false);

    /// <summary>
    /// With <paramref name="profile"/>, cuProfilerStart/Stop bracket the measured region (for
    /// `nsys profile --capture-range=cudaProfilerApi`) and each benchmark is an NVTX range when libnvToolsExt exists.
    /// </summary>
    public static IReadOnlyList<BenchmarkResult> Run(BenchmarkOptions options, IComputeBackend cudaBackend, bool profile, Action<BenchmarkResult>? onResult = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cudaBackend);
        var cuda = cudaBackend as CudaBackend;
        var results = new BenchmarkResults(onResult);
        int repeats = Math.Max(1, options.Repeats);
        int n = options.Samples ?? (options.Quick ? 8192 : 50_000);
        IReadOnlyList<int> dims = options.Dims ?? (options.Quick ? [2048] : [2048, 4096]);
        var random = new Random(options.Seed);

        bool gemm = options.Includes("gemm"), pr = options.Includes("pr"), fid = options.Includes("fid");
        // Only the precision/recall lines compare with fp32: no twin (a second context and module load) otherwise.
        using var fp32Twin = pr ? cudaBackend.CreateFp32Twin() : null;
        if (profile) cuda?.Session.Profiler(start: true);
        try
        {
            // The peak GEMM (for gemm, and as the reference of the tiles' % of peak): 8192² x 2048 (4096² with
            // --quick), no larger than the benchmark's own sizes.
            int peakM = Math.Min(options.Quick ? 4096 : 8192, Math.Max(256, n));
            int peakK = Math.Min(2048, Math.Max(64, dims.Max()));
            double? peak = cuda is null || !(gemm || pr) ? null : SgemmPeak(cuda, repeats, peakM, peakK, results);
            string peakDescription = $"measured cuBLAS GEMM, {cudaBackend.DistancePrecision}";

            foreach (int dim in dims)
            {
                if (!pr && !(fid && dim == dims[0])) continue;
                var real = RandomFeatures(random, n, dim, "real");
                var fake = RandomFeatures(random, n, dim, "fake");
                if (pr)
                {
                    // The whole improved precision/recall at k = 3 as KnnMetrics runs it: both sets uploaded once
                    // (RetainInputs), the two self k-NN passes and the cross pass.
                    KnnRadii? realRadii = null, fakeRadii = null;
                    CrossReductions? cross = null;
                    double prSeconds = Time(cuda, repeats, $"precision/recall N={n} D={dim}", () =>
                    {
                        using var keep = cudaBackend.RetainInputs(real, fake);
                        realRadii = cudaBackend.KnnRadiiSquared(real, [3]);
                        fakeRadii = cudaBackend.KnnRadiiSquared(fake, [3]);
                        cross = cudaBackend.ReduceCrossDistances(fake, real, new CrossRequest { RealRadiiSquared = realRadii, FakeRadiiSquared = fakeRadii });
                    });
                    var request = new CrossRequest { RealRadiiSquared = realRadii!, FakeRadiiSquared = fakeRadii! };
                    // The tiles without the uploads: both sets stay resident (the warm-up run uploads them).
                    double crossSeconds;
                    using (cudaBackend.RetainInputs(real, fake))
                        crossSeconds = Time(cuda, repeats, $"cross reductions N={n} D={dim}", () => cudaBackend.ReduceCrossDistances(fake, real, request));
                    if (cuda is not null) UploadRate(cuda, repeats, real, results);
                    // tf32 / fp16: what the speed costs, counted against an fp32 run on the same data (not timed).
                    string changed = "";
                    if (fp32Twin is not null)
                    {
                        var decisions = MembershipDecisions.From([3], cross!);
                        var c = decisions.CompareWith(Fp32Decisions(fp32Twin, real, fake));
                        changed = string.Create(CultureInfo.InvariantCulture, $"; {c.Changed} of {c.Compared} membership decisions ({100 * c.ChangedFraction:0.####}%) differ from fp32");
                    }
                    // The float64 refinement of the last timed run (counted; its in-kernel time is inside the tiles').
                    var refined = realRadii!.Refinement + fakeRadii!.Refinement + cross!.Refinement;
                    changed += string.Create(CultureInfo.InvariantCulture, $"; refinement: {refined.Decisions} decisions, {refined.Float64Distances} float64 distances");
                    double gflops = 2.0 * n * n * dim / crossSeconds / 1e9;
                    results.Add(new BenchmarkResult("distance tiles + fused reductions", cudaBackend.Name, $"{n}x{n}x{dim}", crossSeconds, repeats,
                        gflops, peak is double p ? 100 * gflops / p : null, peak is null ? null : peakDescription,
                        "ReduceCrossDistances, k = 3, sets resident (uploads timed separately)"));
                    results.Add(new BenchmarkResult("precision/recall k=3", cudaBackend.Name, $"N={n}, D={dim}", prSeconds, repeats,
                        3 * 2.0 * n * n * dim / prSeconds / 1e9, null, null,
                        $"2 x KnnRadiiSquared + ReduceCrossDistances, each set uploaded once, {cudaBackend.DistancePrecision}; GFLOP/s counts 3 full N x N sets (the self passes compute half){changed}"));
                }
                if (fid && dim == dims[0])
                {
                    GaussianStatistics? a = null, b = null;
                    double statsSeconds = Time(cuda, repeats, "fid statistics", () =>
                    {
                        a = cudaBackend.ComputeStatistics(real, CovarianceDivisor.NMinusOne);
                        b = cudaBackend.ComputeStatistics(fake, CovarianceDivisor.NMinusOne);
                    });
                    double sqrtSeconds = Time(cuda, repeats, "fid trace sqrt", () => cudaBackend.TraceSqrtProduct(a!.Covariance, b!.Covariance, dim));
                    // How the square root was reached on this data: route, Newton–Schulz iterations, last residual.
                    string route = cuda?.LastSqrt is { } report ? $"; {report}" : "";
                    results.Add(new BenchmarkResult("FID from features", cudaBackend.Name, $"2 x {n}x{dim}", statsSeconds + sqrtSeconds, repeats,
                        Note: "2 x ComputeStatistics (uploads included, DSYRK, float64) + TraceSqrtProduct"));
                    results.Add(new BenchmarkResult("FID from statistics", cudaBackend.Name, $"D={dim}", sqrtSeconds, repeats,
                        Note: $"TraceSqrtProduct (uploads of both covariances included){route}"));
                }
            }
        }
        finally
        {
            if (profile) cuda?.Session.Profiler(start: false);
        }
        return results.All;
    }

    /// <summary>The k = 3 decisions of the whole precision/recall pass on the fp32 twin.</summary>
    private static MembershipDecisions Fp32Decisions(IComputeBackend fp32, FeatureMatrix real, FeatureMatrix fake)
    {
        var realRadii = fp32.KnnRadiiSquared(real, [3]);
        var fakeRadii = fp32.KnnRadiiSquared(fake, [3]);
        var cross = fp32.ReduceCrossDistances(fake, real, new CrossRequest { RealRadiiSquared = realRadii, FakeRadiiSquared = fakeRadii });
        return MembershipDecisions.From([3], cross);
    }

    private static double SgemmPeak(CudaBackend cuda, int repeats, int m, int k, BenchmarkResults results)
    {
        string sizes = $"{m}x{m}x{k}";
        var s = cuda.Session;
        s.MakeCurrent();
        using var a = s.Allocate<float>((long)m * k);
        using var b = s.Allocate<float>((long)m * k);
        using var c = s.Allocate<float>((long)m * m);
        // Random operands: constant data toggles fewer bits, draws less power and reads high on a GPU.
        var random = new Random(12345);
        if (cuda.Precision == CudaPrecision.Fp16)
        {
            var h = new Half[2L * m * k];
            for (long i = 0; i < h.LongLength; i++) h[i] = (Half)(random.NextDouble() * 2 - 1);
            // The float buffers hold 2·m·k halves each: the first m·k are read.
            s.Upload<Half>(h.AsSpan(0, m * k), a.Start);
            s.Upload<Half>(h.AsSpan(m * k, m * k), b.Start);
        }
        else
        {
            var f = new float[(long)m * k];
            for (long i = 0; i < f.LongLength; i++) f[i] = (float)(random.NextDouble() * 2 - 1);
            s.Upload<float>(f, a.Start);
            for (long i = 0; i < f.LongLength; i++) f[i] = (float)(random.NextDouble() * 2 - 1);
            s.Upload<float>(f, b.Start);
        }
        var times = new List<double>();
        using var start = s.CreateEvent();
        using var end = s.CreateEvent();
        // The peak of the arithmetic the distance tiles use, so that "% of peak" compares like with like.
        using (Nvtx.Range($"cuBLAS GEMM peak ({cuda.DistancePrecision})"))
        {
            for (int r = 0; r <= repeats; r++)
            {
                s.Record(start);
                switch (cuda.Precision)
                {
                    case CudaPrecision.Fp32:
                        s.Sgemm(true, false, m, m, k, 1f, a.Start, k, b.Start, k, 0f, c.Start, m);
                        break;
                    case CudaPrecision.Tf32:
                        s.GemmEx(true, false, m, m, k, 1f, a.Start, CudaConstants.CudaR32F, k, b.Start, k, 0f, c.Start, m, CudaConstants.CublasCompute32FFastTf32);
                        break;
                    default:
                        s.GemmEx(true, false, m, m, k, 1f, a.Start, CudaConstants.CudaR16F, k, b.Start, k, 0f, c.Start, m, CudaConstants.CublasCompute32F);
                        break;
                }
                s.Record(end);
                double ms = CudaEvent.ElapsedMilliseconds(start, end);
                if (r > 0) times.Add(ms / 1000); // the first run is the warm-up
            }
        }
        double seconds = Median(times);
        double gflops = 2.0 * m * m * k / seconds / 1e9;
        results.Add(new BenchmarkResult($"cuBLAS GEMM {cuda.DistancePrecision} (peak reference)", "cuda", sizes, seconds, repeats, gflops, 100, "itself",
            $"{cuda.Device.Name}, {(cuda.Precision == CudaPrecision.Fp32 ? "cublasSgemm" : "cublasGemmEx")}, random operands"));
        return gflops;
    }

    /// <summary>Host-to-device rate of one feature set's upload (pinned staging, or pageable when pinned memory is refused).</summary>
    private static void UploadRate(CudaBackend cuda, int repeats, FeatureMatrix set, BenchmarkResults results)
    {
        var s = cuda.Session;
        s.MakeCurrent();
        var values = set.Data.AsSpan(0, checked(set.Rows * set.Dim));
        using var device = s.Allocate<float>(values.Length);
        var times = new List<double>();
        using var start = s.CreateEvent();
        using var end = s.CreateEvent();
        using (Nvtx.Range("upload rate"))
        {
            for (int r = 0; r <= repeats; r++)
            {
                s.Record(start);
                s.Upload<float>(values, device.Start);
                s.Record(end);
                double ms = CudaEvent.ElapsedMilliseconds(start, end);
                if (r > 0) times.Add(ms / 1000);
            }
        }
        double seconds = Median(times);
        double gigabytes = values.Length * 4.0 / 1e9;
        results.Add(new BenchmarkResult("upload (host to device)", "cuda", $"{set.Rows}x{set.Dim} float32", seconds, repeats, null, null, null,
            string.Create(CultureInfo.InvariantCulture,
                $"{gigabytes / seconds:0.##} GB/s, {(s.PinnedStaging ? $"pinned staging buffers of {CudaSession.StagingBytes >> 20} MiB, copy overlapping DMA" : "pageable, synchronised")}")));
    }

    /// <summary>Median seconds of <paramref name="repeats"/> runs after one warm-up, timed with CUDA events when possible.</summary>
    private static double Time(CudaBackend? cuda, int repeats, string name, Action body)
    {
        var times = new List<double>();
        using var range = Nvtx.Range(name);
        for (int r = 0; r <= repeats; r++)
        {
            double seconds;
            if (cuda is not null)
            {
                var s = cuda.Session;
                s.MakeCurrent();
                using var start = s.CreateEvent();
                using var end = s.CreateEvent();
                s.Record(start);
                body();
                s.MakeCurrent();
                s.Record(end);
                seconds = CudaEvent.ElapsedMilliseconds(start, end) / 1000;
            }
            else
            {
                var sw = Stopwatch.StartNew();
                body();
                seconds = sw.Elapsed.TotalSeconds;
            }
            if (r > 0) times.Add(seconds);
        }
        return Median(times);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int h = values.Count / 2;
        return values.Count % 2 == 1 ? values[h] : (values[h - 1] + values[h]) / 2;
    }

    private static FeatureMatrix RandomFeatures(Random random, int rows, int dim, string name)
    {
        var data = new float[(long)rows * dim];
        // Non-negative, like post-ReLU pooled Inception features.
        for (long i = 0; i < data.LongLength; i++) data[i] = (float)(random.NextDouble() * random.NextDouble());
        return new FeatureMatrix(data, rows, dim, name);
    }
}
