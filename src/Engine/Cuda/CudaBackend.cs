using GenMetrics.Compute;
using GenMetrics.Cuda.Interop;
using GenMetrics.Features;

namespace GenMetrics.Cuda;

/// <summary>Arithmetic of the distance GEMMs. Statistics and the matrix square root are always float64.</summary>
public enum CudaPrecision
{
    /// <summary>IEEE float32 products (CUBLAS_DEFAULT_MATH): the same numbers as the CPU up to rounding order.</summary>
    Fp32,

    /// <summary>TF32 tensor cores (10-bit mantissa inputs, float32 accumulation): about 2^-11 relative error per product (k-NN decisions stay exact: more of them are refined in float64).</summary>
    Tf32,

    /// <summary>Inputs rounded to float16, float32 accumulation: fastest GEMMs, most float64 refinement of the k-NN decisions.</summary>
    Fp16,
}

/// <summary>
/// The CUDA backend: cuBLAS GEMMs produce tiles of dot products, NVRTC kernels (kernels/*.cu) turn them into
/// squared distances and reduce them in the same pass, so no N x N matrix exists. Features stay resident on
/// the device (O(N·D)) when they fit, else stream in row panels (CudaBackend.Panels.cs); tiles are O(tile).
/// On out-of-memory the tile shrinks and the operation restarts.
/// </summary>
public sealed partial class CudaBackend : IComputeBackend
{
    private const int KnnMaxKeep = 32;        // KNN_MAX_KEEP in knn_smallest_distances.cu
    private const int CrossMaxK = 8;          // CROSS_MAX_K in cross_distance_reductions.cu
    private const int WarpRowsPerBlock = 8;   // 256 threads = 8 warps, one tile row per warp
    private const int ColumnRowsPerBlock = 64;
    private const int CrossRowsPerBlock = 64; // CROSS_ROWS_PER_BLOCK in cross_distance_reductions.cu
    private const int MinimumTile = 256;
    private const uint PositiveInfinityBits = 0x7f800000u;
    private const uint NegativeInfinityBits = 0xff800000u;
    private const uint NoNearestBits = 0xffffffffu;

    private readonly CudaSession _session;
    private readonly KernelModule _knnModule;
    private readonly KernelModule _crossModule;
    private readonly KernelModule _prepareModule;
    private readonly KernelFunction _knnTileUpdate;
    private readonly KernelFunction _knnColumnsPartial;
    private readonly KernelFunction _knnColumnsMerge;
    private readonly KernelFunction _exactPairs;
    private readonly KernelFunction _rowHashes;
    private readonly KernelFunction _verifyRowClasses;
    private readonly KernelFunction _crossTile;
    private readonly KernelFunction _crossRealism;
    private readonly KernelFunction _prepareRows;
    private readonly KernelFunction _columnPartialSums;
    private readonly KernelFunction _columnMeansFinish;
    private readonly KernelFunction _shiftRowsF64;
    private readonly KernelFunction _shiftRowsF32ToF64;
    private readonly Lock _lock = new();
    // Sets the caller promised not to change (RetainInputs): uploaded on first use, kept until released.
    private readonly Dictionary<FeatureMatrix, ResidentFeatures?> _retained = new(ReferenceEqualityComparer.Instance);
    private int _tileSize;
    private bool _disposed;

    private CudaBackend(CudaSession session, CudaPrecision precision, KernelModule knn, KernelModule cross, KernelModule prepare, string compilerVersion)
    {
        _session = session;
        Precision = precision;
        _knnModule = knn;
        _crossModule = cross;
        _prepareModule = prepare;
        _knnTileUpdate = knn.GetFunction("knn_tile_update");
        _knnColumnsPartial = knn.GetFunction("knn_columns_partial");
        _knnColumnsMerge = knn.GetFunction("knn_columns_merge");
        _exactPairs = knn.GetFunction("exact_pair_distances");
        _rowHashes = knn.GetFunction("row_hashes");
        _verifyRowClasses = knn.GetFunction("verify_row_classes");
        _crossTile = cross.GetFunction("cross_tile");
        _crossRealism = cross.GetFunction("cross_realism_tile");
        _prepareRows = prepare.GetFunction("prepare_rows");
        _columnPartialSums = prepare.GetFunction("column_partial_sums");
        _columnMeansFinish = prepare.GetFunction("column_means_finish");
        _shiftRowsF64 = prepare.GetFunction("shift_rows_f64");
        _shiftRowsF32ToF64 = prepare.GetFunction("shift_rows_f32_to_f64");
        CompilerVersion = compilerVersion;
        _tileSize = 8192;
    }

    public CudaPrecision Precision { get; }

    public string DistancePrecision => Precision.ToString().ToLowerInvariant();

    /// <summary>An fp32 backend on the same device (null when this one is fp32); shares the kernel cache.</summary>
    public IComputeBackend? CreateFp32Twin() => Precision == CudaPrecision.Fp32 ? null : Create(CudaPrecision.Fp32, _session.Device.Ordinal);

    public string CompilerVersion { get; }

    public CudaDeviceInfo Device => _session.Device;

    public string Name => "cuda";

    public string Description =>
        $"{_session.Device}, CUDA driver {CudaLibraries.FormatVersion(_session.DriverVersion)}, NVRTC {CompilerVersion}, " +
        $"cuBLAS {FormatCublasVersion(_session.CublasVersion)}, {DistancePrecision} distance GEMMs";

    /// <summary>"13.0.1" from cublasGetVersion's 130001 (major·10000 + minor·100 + patch since cuBLAS 11).</summary>
    internal static string FormatCublasVersion(int encoded) => $"{encoded / 10000}.{encoded / 100 % 100}.{encoded % 100}";

    /// <summary>
    /// Whether identical rows are found by row classes (default) or, for tests of the fallback, by comparing
    /// every near-0 pair's rows (what a hash collision gets).
    /// </summary>
    internal bool UseRowClasses { get; set; } = true;

    /// <summary>Current tile edge (rows and columns per tile); shrinks after an out-of-memory error.</summary>
    public int TileSize
    {
        get => _tileSize;
        set => _tileSize = Math.Max(MinimumTile, value);
    }

    /// <summary>
    /// Opens device <paramref name="deviceOrdinal"/>, creates the context, stream and cuBLAS handle and compiles
    /// (or loads from <paramref name="cache"/>) the kernels. Throws when any of that fails; use
    /// <see cref="ComputeBackends"/> for the non-throwing route.
    /// </summary>
    public static CudaBackend Create(CudaPrecision precision = CudaPrecision.Fp32, int deviceOrdinal = 0, KernelCache? cache = null)
    {
        var libs = CudaLibraries.Get();
        if (libs.MissingReason is { } missing) throw new InvalidOperationException(missing);
        int driverVersion = CudaSession.InitialiseDriver(libs);
        if (driverVersion < CudaLibraries.MinimumDriverVersion)
            throw new InvalidOperationException($"driver too old: it supports CUDA {CudaLibraries.FormatVersion(driverVersion)}, 12.0 or newer is needed");
        var devices = CudaSession.EnumerateDevices(libs);
        if (devices.Count == 0) throw new InvalidOperationException("the driver reports no CUDA device");
        var device = devices.FirstOrDefault(d => d.Ordinal == deviceOrdinal)
            ?? throw new InvalidOperationException($"no CUDA device #{deviceOrdinal} (found {devices.Count})");
        var session = CudaSession.Open(libs, device, driverVersion);
        KernelModule? knn = null, cross = null, prepare = null;
        try
        {
            var (major, minor) = NvrtcCompiler.Version(libs);
            string compiler = $"{major}.{minor}";
            cache ??= new KernelCache(KernelCache.DefaultDirectory());
            knn = LoadKernels(session, libs, cache, KernelSources.KnnSmallestDistances, compiler);
            cross = LoadKernels(session, libs, cache, KernelSources.CrossDistanceReductions, compiler);
            prepare = LoadKernels(session, libs, cache, KernelSources.FeaturePreparation, compiler);
            // Default math on the handle: CUBLAS_TF32_TENSOR_OP_MATH would turn every cublasSgemm into TF32,
            // the fp32 ones too (KID's MultiplyTransposed). TF32 is asked per call instead, by GemmEx's
            // compute type CUBLAS_COMPUTE_32F_FAST_TF32, for the distance tiles only.
            session.SetMathMode(CudaConstants.CublasDefaultMath);
            return new CudaBackend(session, precision, knn, cross, prepare, compiler);
        }
        catch
        {
            knn?.Dispose();
            cross?.Dispose();
            prepare?.Dispose();
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// NVRTC options: a real arch so that NVRTC emits a CUBIN the driver loads without a JIT step; no FMA
    /// contraction, so that the float64 refinement Σ(a − b)² rounds term by term exactly as the CPU's.
    /// </summary>
    internal static IReadOnlyList<string> CompileOptions(string arch) => [$"--gpu-architecture={arch}", "--std=c++17", "-lineinfo", "--fmad=false"];

    private static KernelModule LoadKernels(CudaSession session, CudaLibraries libs, KernelCache cache, string file, string compilerVersion)
    {
        string source = KernelSources.Read(file);
        string arch = session.Device.Arch;
        var options = CompileOptions(arch);
        string key = KernelCache.Key(source, options, arch, session.DriverVersion, compilerVersion);
        var image = cache.GetOrCompile(cache.PathFor(file, arch, key, cubin: true),
            () => NvrtcCompiler.Compile(libs, source, file, options, cubin: true));
        return session.LoadModule(image);
    }

    // ------------------------------------------------------------------ k-NN radii

    public KnnRadii KnnRadiiSquared(FeatureMatrix x, IReadOnlyList<int> ks, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(ks);
        if (ks.Count == 0) throw new ArgumentException("at least one k is needed", nameof(ks));
        int maxK = ks.Max();
        if (ks.Min() < 1) throw InputException.For(x.Name, $"k must be at least 1, got {ks.Min()}");
        if (x.Rows <= maxK) throw InputException.For(x.Name, $"k = {maxK} needs more than {maxK} samples, the set has {x.Rows}");
        // The kernel keeps at most 32 candidates per row; larger k (never used by the reference metrics) goes to the CPU.
        if (maxK + 1 > KnnMaxKeep) return new CpuBackend().KnnRadiiSquared(x, ks, progress);

        lock (_lock)
        {
            return KnnInPanelsWhenNeeded(x, ks, maxK, progress);
        }
    }

    private KnnRadii KnnCore(FeatureMatrix x, IReadOnlyList<int> ks, int kmax, IProgress<double>? progress)
    {
        _session.MakeCurrent();
        int n = x.Rows, tile = Math.Min(_tileSize, n);
        int keep = Math.Min(n, Math.Min(KnnMaxKeep, kmax + 1 + ExactRadii.ExtraCandidates));
        // Shifted by the set's own mean: distances do not change, the cancellation in ‖a‖² + ‖b‖² − 2a·b does.
        using var resident = Resident(x);
        using var matrix = DeviceMatrix.Prepare(_session, _prepareRows, resident.Features, Mean(resident.Features), Precision);
        var termsHost = ErrorTerms(matrix);
        using var terms = UploadArray(Array.ConvertAll(termsHost, DistanceErrorBound.Up));
        using var bestKeys = _session.Allocate<float>((long)n * KnnMaxKeep);
        using var bestIndex = _session.Allocate<int>((long)n * KnnMaxKeep);
        using var tiles = new TilePipeline(_session, (long)tile * tile);
        using var classes = RowClasses(matrix, null);
        // The column half of off-diagonal tiles in slices of ~512 rows (knn_columns_partial/merge).
        int slices = Math.Clamp(Blocks(tile, 512), 1, 64), rowsPerSlice = Blocks(tile, slices);
        using var partialKeys = _session.Allocate<float>((long)slices * tile * keep);
        using var partialIndex = _session.Allocate<int>((long)slices * tile * keep);
        _session.Fill32(bestKeys.Start, PositiveInfinityBits, bestKeys.Count);
        _session.Fill32(bestIndex.Start, 0xffffffffu, bestIndex.Count);

        // Distances are symmetric: only tiles on and above the diagonal are multiplied. An off-diagonal tile
        // (rows I, columns J) updates the rows of I row by row and the rows of J column by column (in row
        // slices, then merged); for T tile rows that is T(T+1)/2 GEMMs instead of T² (28 instead of 49 at
        // N = 50k, tile 8192).
        int tileRows = Blocks(n, tile);
        long tilesTotal = (long)tileRows * (tileRows + 1) / 2, tilesDone = 0;
        using var tilesRange = Nvtx.Range($"k-NN tiles {x.Name}: GEMM + candidate selection");
        for (int rowStart = 0; rowStart < n; rowStart += tile)
        {
            int rows = Math.Min(tile, n - rowStart);
            for (int colStart = rowStart; colStart < n; colStart += tile)
            {
                int cols = Math.Min(tile, n - colStart);
                bool diagonal = colStart == rowStart;
                // GEMM on the main stream into one tile buffer; the reductions on the side stream, overlapping the
                // next tile's GEMM into the other buffer (TilePipeline orders the two with events).
                var dots = tiles.NextTile();
                DotTile(matrix, rowStart, rows, matrix, colStart, cols, dots, ld: cols);
                tiles.TileReady();
                _session.Launch(_knnTileUpdate, (Blocks(rows, WarpRowsPerBlock), 1), 256, 0, new KernelArguments()
                    .Add(dots.Start).Add(rows).Add(cols).Add(cols)
                    .Add(matrix.Norms.Start).Add(matrix.Norms.Start).Add(terms.Start)
                    .Add(matrix.Dim).Add(matrix.SingleValues).Add(matrix.HalfValues).Add(classes.Start)
                    .Add(rowStart).Add(colStart).Add(diagonal ? 1 : 0).Add(keep).Add(bestKeys.Start).Add(bestIndex.Start), onSideStream: true);
                if (!diagonal)
                {
                    int used = Blocks(rows, rowsPerSlice);
                    _session.Launch(_knnColumnsPartial, (Blocks(cols, 256), used), 256, 0, new KernelArguments()
                        .Add(dots.Start).Add(rows).Add(cols).Add(cols)
                        .Add(matrix.Norms.Start).Add(matrix.Norms.Start).Add(terms.Start)
                        .Add(matrix.Dim).Add(matrix.SingleValues).Add(matrix.HalfValues).Add(classes.Start)
                        .Add(rowStart).Add(colStart).Add(keep).Add(rowsPerSlice).Add(bestKeys.Start).Add(partialKeys.Start).Add(partialIndex.Start), onSideStream: true);
                    _session.Launch(_knnColumnsMerge, (Blocks(cols, 256), 1), 256, 0, new KernelArguments()
                        .Add(partialKeys.Start).Add(partialIndex.Start).Add(used).Add(cols).Add(colStart).Add(keep)
                        .Add(bestKeys.Start).Add(bestIndex.Start), onSideStream: true);
                }
                tiles.TileReduced();
                progress?.Report((double)++tilesDone / tilesTotal);
            }
        }
        tiles.Finish();
        var keys = new float[(long)n * KnnMaxKeep];
        var indices = new int[(long)n * KnnMaxKeep];
        _session.Download(bestKeys.Start, keys.AsSpan());
        _session.Download(bestIndex.Start, indices.AsSpan());
        tilesRange.Dispose();

        // Exact radii (ExactRadii): candidates chosen on the host from the kept keys, their float64 distances
        // on the device from the original rows, the order statistics on the host.
        using var refineRange = Nvtx.Range($"k-NN radii {x.Name}: float64 refinement");
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        bool full = n > keep;
        var candidateStart = new int[n + 1];
        var candidates = new int[(long)n * keep];
        var overflow = new List<int>();
        for (int i = 0; i < n; i++)
        {
            int count = ExactRadii.SelectCandidates(keys.AsSpan(i * KnnMaxKeep, keep), indices.AsSpan(i * KnnMaxKeep, keep), full,
                termsHost[i], termsHost, kmax, candidates.AsSpan(candidateStart[i], keep));
            if (count < 0)
            {
                overflow.Add(i);
                count = 0;
            }
            candidateStart[i + 1] = candidateStart[i] + count;
        }
        // Pairs to evaluate: every candidate but the row itself, and each overflowing row against all rows.
        var pairRows = new List<int>();
        var pairCols = new List<int>();
        for (int i = 0; i < n; i++)
            for (int c = candidateStart[i]; c < candidateStart[i + 1]; c++)
                if (candidates[c] != i)
                {
                    pairRows.Add(i);
                    pairCols.Add(candidates[c]);
                }
        foreach (int i in overflow)
            for (int j = 0; j < n; j++)
                if (j != i)
                {
                    pairRows.Add(i);
                    pairCols.Add(j);
                }
        var exact = ExactPairDistances(resident.Features.Values.Start, resident.Features.Values.Start, x.Dim, pairRows, pairCols);

        var radii = new double[ks.Count][];
        for (int q = 0; q < ks.Count; q++) radii[q] = new double[n];
        var rowValues = new Dictionary<int, List<double>>();
        for (int p = 0; p < pairRows.Count; p++)
        {
            if (!rowValues.TryGetValue(pairRows[p], out var list)) rowValues[pairRows[p]] = list = [];
            list.Add(exact[p]);
        }
        long decisions = overflow.Count;
        Span<double> r = stackalloc double[ks.Count];
        for (int i = 0; i < n; i++)
        {
            var values = rowValues.TryGetValue(i, out var list) ? list : new List<double>();
            values.Add(0); // the row itself
            decisions += ExactRadii.Finish(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values), ks, kmax, r);
            for (int q = 0; q < ks.Count; q++) radii[q][i] = r[q];
        }
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new KnnRadii(radii, new RefinementCounts(decisions, pairRows.Count, seconds));
    }

    /// <summary>Per-row error terms e(‖row‖²) of the stored norms of <paramref name="matrix"/> for this precision.</summary>
    private double[] ErrorTerms(DeviceMatrix matrix)
    {
        var norms = new float[matrix.Rows];
        _session.Download(matrix.Norms.Start, norms.AsSpan());
        return DistanceErrorBound.For(DistancePrecision, matrix.Dim).RowTerms(norms);
    }

    /// <summary>Σ(a − b)² in float64 for each pair (rowsA[p] of a, rowsB[p] of b), on the device (exact_pair_distances).</summary>
    private double[] ExactPairDistances(DevicePointer a, DevicePointer b, int dim, List<int> rowsA, List<int> rowsB)
    {
        var result = new double[rowsA.Count];
        if (result.Length == 0) return result;
        const int batch = 1 << 22;
        int size = Math.Min(batch, result.Length);
        using var da = _session.Allocate<int>(size);
        using var db = _session.Allocate<int>(size);
        using var dout = _session.Allocate<double>(size);
        var spanA = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rowsA);
        var spanB = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rowsB);
        for (int start = 0; start < result.Length; start += batch)
        {
            int count = Math.Min(batch, result.Length - start);
            _session.Upload<int>(spanA.Slice(start, count), da.Start);
            _session.Upload<int>(spanB.Slice(start, count), db.Start);
            _session.Launch(_exactPairs, (Blocks(count, 256), 1), 256, 0, new KernelArguments()
                .Add(a).Add(b).Add(dim).Add(da.Start).Add(db.Start).Add(count).Add(dout.Start));
            _session.Download(dout.Start, result.AsSpan(start, count));
        }
        return result;
    }

    private DeviceBuffer<T> UploadArray<T>(T[] values) where T : unmanaged
    {
        var buffer = _session.Allocate<T>(Math.Max(values.Length, 1));
        if (values.Length > 0) _session.Upload<T>(values, buffer.Start);
        return buffer;
    }

    // ------------------------------------------------------------------ fake x real reductions

    public CrossReductions ReduceCrossDistances(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(fake);
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(request);
        if (fake.Dim != real.Dim)
            throw InputException.For(fake.Name, $"{fake.Dim} features per sample, but {real.Name} has {real.Dim}");
        if (fake.Rows == 0) throw InputException.For(fake.Name, "no samples");
        if (real.Rows == 0) throw InputException.For(real.Name, "no samples");
        int numK = request.RealRadiiSquared.Count;
        if (request.FakeRadiiSquared.Count != numK)
            throw new ArgumentException($"{numK} real radius arrays but {request.FakeRadiiSquared.Count} fake ones");
        for (int k = 0; k < numK; k++)
        {
            if (request.RealRadiiSquared[k].Length != real.Rows) throw new ArgumentException($"real radii [{k}] has length {request.RealRadiiSquared[k].Length}, expected {real.Rows}");
            if (request.FakeRadiiSquared[k].Length != fake.Rows) throw new ArgumentException($"fake radii [{k}] has length {request.FakeRadiiSquared[k].Length}, expected {fake.Rows}");
        }
        if (request.RealismRadiiSquared is { } rr && rr.Length != real.Rows)
            throw new ArgumentException($"realism radii have length {rr.Length}, expected {real.Rows}");
        if (numK > CrossMaxK) return new CpuBackend().ReduceCrossDistances(fake, real, request, progress);

        lock (_lock)
        {
            return CrossInPanelsWhenNeeded(fake, real, request, numK, progress);
        }
    }

    private CrossReductions CrossCore(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, int numK, IProgress<double>? progress)
    {
        _session.MakeCurrent();
        int nFake = fake.Rows, nReal = real.Rows;
        int rowTile = Math.Min(_tileSize, nFake), colTile = Math.Min(_tileSize, nReal);
        // Both sets are shifted by the real mean, as the CPU tiles are: distances do not change, cancellation in
        // ‖a‖² + ‖b‖² − 2a·b does (features of one network share a large common offset).
        using var realResident = Resident(real);
        using var fakeResident = Resident(fake);
        var shift = _panelShift ?? Mean(realResident.Features); // row panels: the whole real set's mean
        using var fakeMatrix = DeviceMatrix.Prepare(_session, _prepareRows, fakeResident.Features, shift, Precision);
        using var realMatrix = DeviceMatrix.Prepare(_session, _prepareRows, realResident.Features, shift, Precision);
        var th = new CrossThresholds(ErrorTerms(fakeMatrix), ErrorTerms(realMatrix), request.RealRadiiSquared, request.FakeRadiiSquared, request.RealismRadiiSquared);
        using var fakeTerms = UploadArray(th.FakeTerms);
        using var realTerms = UploadArray(th.RealTerms);
        using var realLow = UploadStacked(th.RealLow, nReal);
        using var realHigh = UploadStacked(th.RealHigh, nReal);
        using var realExact = UploadStacked(request.RealRadiiSquared, nReal);
        using var fakeLow = UploadStacked(th.FakeLow, nFake);
        using var fakeHigh = UploadStacked(th.FakeHigh, nFake);
        using var fakeExact = UploadStacked(request.FakeRadiiSquared, nFake);
        bool wantRealism = request.RealismRadiiSquared is not null;
        using var realismLow = wantRealism ? UploadArray(th.RealismLow!) : null;
        using var realismHigh = wantRealism ? UploadArray(th.RealismHigh!) : null;
        using var realismExact = wantRealism ? UploadArray(request.RealismRadiiSquared!) : null;
        using var countLe = _session.Allocate<int>((long)Math.Max(numK, 1) * nFake);
        using var countLt = _session.Allocate<int>((long)Math.Max(numK, 1) * nFake);
        using var complement = _session.Allocate<int>((long)Math.Max(numK, 1) * nFake);
        using var anyLe = _session.Allocate<int>((long)Math.Max(numK, 1) * nReal);
        using var anyLt = _session.Allocate<int>((long)Math.Max(numK, 1) * nReal);
        using var covered = _session.Allocate<int>((long)Math.Max(numK, 1) * nReal);
        // The nearest real per fake as one key, d̃'s bits << 32 | index (atomicMin: smallest d̃, then lowest index).
        using var rowNearest = _session.Allocate<ulong>(nFake);
        // The realism lower bound per fake as an int ordering like the float (atomicMax); see ordered_key.
        using var realismLower = _session.Allocate<int>(nFake);
        using var realismBest = _session.Allocate<double>(nFake);
        using var realismEvals = _session.Allocate<int>(nFake);
        using var colMin = _session.Allocate<float>(nReal);
        using var counters = _session.Allocate<ulong>(2);
        using var tiles = new TilePipeline(_session, (long)rowTile * colTile);
        // Fake rows first, then real rows: one class space, so that a fake and a real row can share a class.
        using var classes = RowClasses(fakeMatrix, realMatrix);
        foreach (var buffer in new[] { countLe, countLt, complement, anyLe, anyLt, covered, realismEvals }) _session.Fill32(buffer.Start, 0, buffer.Count);
        _session.Fill32(rowNearest.Start, NoNearestBits, rowNearest.Count * 2);
        _session.Fill32(realismLower.Start, NegativeInfinityBits ^ 0x7fffffffu, nFake);
        _session.Fill32(realismBest.Start, 0, realismBest.Count * 2);
        _session.Fill32(colMin.Start, PositiveInfinityBits, nReal);
        _session.Fill32(counters.Start, 0, 4);

        // A null realism pointer tells the kernel to skip the ratio; a zero address is what the kernel tests.
        DevicePointer Optional<T>(DeviceBuffer<T>? b) where T : unmanaged => b?.Start ?? default;
        long tilesTotal = (long)Blocks(nFake, rowTile) * Blocks(nReal, colTile), tilesDone = 0;
        using var tilesRange = Nvtx.Range("cross tiles: GEMM + exact membership, nearest and realism reductions");
        for (int rowStart = 0; rowStart < nFake; rowStart += rowTile)
        {
            int rows = Math.Min(rowTile, nFake - rowStart);
            for (int colStart = 0; colStart < nReal; colStart += colTile)
            {
                int cols = Math.Min(colTile, nReal - colStart);
                var dots = tiles.NextTile();
                DotTile(fakeMatrix, rowStart, rows, realMatrix, colStart, cols, dots, ld: cols);
                tiles.TileReady();
                // One read of the tile for the row, column and realism-bound reductions; realism's second sweep
                // (which needs the bound over the whole tile row) reads it once more.
                _session.Launch(_crossTile, (Blocks(cols, 256), Blocks(rows, CrossRowsPerBlock)), 256, 0, new KernelArguments()
                    .Add(dots.Start).Add(rows).Add(cols).Add(cols)
                    .Add(fakeMatrix.Norms.Start).Add(realMatrix.Norms.Start)
                    .Add(fakeTerms.Start).Add(realTerms.Start)
                    .Add(fakeMatrix.Dim).Add(fakeMatrix.SingleValues).Add(fakeMatrix.HalfValues)
                    .Add(realMatrix.SingleValues).Add(realMatrix.HalfValues)
                    .Add(classes.Start).Add(classes.At(nFake))
                    .Add(fakeResident.Features.Values.Start).Add(realResident.Features.Values.Start)
                    .Add(rowStart).Add(colStart).Add(numK)
                    .Add(fakeLow.Start).Add(fakeHigh.Start).Add(fakeExact.Start).Add(nFake)
                    .Add(realLow.Start).Add(realHigh.Start).Add(realExact.Start).Add(nReal)
                    .Add(Optional(realismLow)).Add(request.RealismEpsilon)
                    .Add(countLe.Start).Add(countLt.Start).Add(complement.Start)
                    .Add(rowNearest.Start).Add(realismLower.Start)
                    .Add(anyLe.Start).Add(anyLt.Start).Add(covered.Start)
                    .Add(colMin.Start).Add(counters.Start), onSideStream: true);
                if (wantRealism)
                {
                    _session.Launch(_crossRealism, (Blocks(rows, WarpRowsPerBlock), 1), 256, 0, new KernelArguments()
                        .Add(dots.Start).Add(rows).Add(cols).Add(cols)
                        .Add(fakeMatrix.Norms.Start).Add(realMatrix.Norms.Start)
                        .Add(fakeTerms.Start).Add(realTerms.Start)
                        .Add(fakeMatrix.Dim).Add(fakeMatrix.SingleValues).Add(fakeMatrix.HalfValues)
                        .Add(realMatrix.SingleValues).Add(realMatrix.HalfValues)
                        .Add(classes.Start).Add(classes.At(nFake))
                        .Add(fakeResident.Features.Values.Start).Add(realResident.Features.Values.Start)
                        .Add(rowStart).Add(colStart)
                        .Add(realismHigh!.Start).Add(realismExact!.Start).Add(request.RealismEpsilon)
                        .Add(realismLower.Start).Add(realismBest.Start).Add(realismEvals.Start)
                        .Add(counters.Start), onSideStream: true);
                }
                tiles.TileReduced();
                progress?.Report((double)++tilesDone / tilesTotal);
            }
        }

        tiles.Finish();
        tilesRange.Dispose();
        using var download = Nvtx.Range("download reductions");
        var le = DownloadStacked<int>(countLe, numK, nFake);
        var lt = DownloadStacked<int>(countLt, numK, nFake);
        var complementFlags = DownloadStacked<int>(complement, numK, nFake);
        var anyLeFlags = DownloadStacked<int>(anyLe, numK, nReal);
        var anyLtFlags = DownloadStacked<int>(anyLt, numK, nReal);
        var coveredFlags = DownloadStacked<int>(covered, numK, nReal);
        var nearestKeys = new ulong[nFake];
        var fakeNearest = new float[nFake];
        var fakeNearestIndex = new int[nFake];
        var realNearest = new float[nReal];
        _session.Download(rowNearest.Start, nearestKeys.AsSpan());
        for (int i = 0; i < nFake; i++)
        {
            // No key: no finite d̃ (+∞ and index 0, as the row state starts).
            bool none = nearestKeys[i] == ulong.MaxValue;
            fakeNearest[i] = none ? float.PositiveInfinity : BitConverter.UInt32BitsToSingle((uint)(nearestKeys[i] >> 32));
            fakeNearestIndex[i] = none ? 0 : (int)(uint)nearestKeys[i];
        }
        _session.Download(colMin.Start, realNearest.AsSpan());
        var count = new ulong[2];
        _session.Download(counters.Start, count.AsSpan());
        long realismNearTies = 0;
        float[]? realismHost = null;
        if (wantRealism)
        {
            var best = new double[nFake];
            var evals = new int[nFake];
            _session.Download(realismBest.Start, best.AsSpan());
            _session.Download(realismEvals.Start, evals.AsSpan());
            realismHost = Array.ConvertAll(best, v => (float)v);
            // The first evaluation of a row is its maximum; each further one is a near-tie float32 could not settle.
            foreach (int e in evals) realismNearTies += Math.Max(0, e - 1);
        }
        static bool[][] Flags(int[][] a) => a.Select(x => x.Select(v => v != 0).ToArray()).ToArray();
        return new CrossReductions
        {
            FakeInsideRealCountLe = le,
            FakeInsideRealCountLt = lt,
            RealInsideFakeLe = Flags(anyLeFlags),
            RealInsideFakeLt = Flags(anyLtFlags),
            RealCoveredLt = Flags(coveredFlags),
            FakeComplementLt = Flags(complementFlags),
            FakeNearestRealDistanceSquared = fakeNearest,
            FakeNearestRealIndex = fakeNearestIndex,
            RealNearestFakeDistanceSquared = realNearest,
            Realism = realismHost,
            // The float64 work ran inside the tile kernels: counted, not separately timed.
            Refinement = new RefinementCounts((long)count[0] + realismNearTies, (long)count[1], 0),
        };
    }

    // ------------------------------------------------------------------ statistics (float64)

    public GaussianStatistics ComputeStatistics(IRowBlockSource source, CovarianceDivisor divisor, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        int n = source.Rows, dim = source.Dim;
        int minimum = divisor == CovarianceDivisor.NMinusOne ? 2 : 1;
        if (n < minimum) throw InputException.For(source.Name, $"a covariance needs at least {minimum} samples, the set has {n}");
        lock (_lock)
        {
            _session.MakeCurrent();
            using var statisticsRange = Nvtx.Range($"statistics {source.Name}: upload, shift, DSYRK");
            // float64 throughout: FID's references use np.cov in float64, and a float32 Gram matrix over 50k
            // samples is off by ~1e-4 relative, far outside the 1e-9 the verifier demands. DSYRK computes only
            // one triangle (half the flops of a GEMM); rows are shifted by an estimate of the mean so that
            // Σ(x−s)(x−s)ᵀ − n·(m−s)(m−s)ᵀ does not cancel catastrophically. The host only moves data:
            // shifting, the finiteness check and the column sums run on the device.
            using var accumulator = new GramAccumulator(_session, dim, (int)Math.Clamp((64L << 20) / (8L * dim), 1, 8192));
            double[] shift;
            if (source is FeatureMatrix m && StatisticsFitResident(m, accumulator.BlockRows))
            {
                // float32 features (the usual case): uploaded once as float32 (half the bytes of float64, and
                // shared with the k-NN passes when retained), shifted by the device mean and widened on the device.
                using var resident = Resident(m);
                var shiftDevice = Mean(resident.Features);
                var shiftHost = new float[dim];
                _session.Download(shiftDevice, shiftHost.AsSpan());
                shift = Array.ConvertAll(shiftHost, v => (double)v);
                for (int start = 0; start < n; start += accumulator.BlockRows)
                {
                    int count = Math.Min(accumulator.BlockRows, n - start);
                    accumulator.Add(_shiftRowsF32ToF64, resident.Features.Values.At((long)start * dim), count, start, shiftDevice);
                    progress?.Report((double)(start + count) / n);
                }
            }
            else
            {
                shift = StatisticsFromBlocks(source, accumulator, progress);
            }
            return accumulator.Finish(source.Name, n, shift, divisor);
        }
    }

    /// <summary>Streams float64 blocks from any source: each uploaded as read, shifted by the first block's mean.</summary>
    private double[] StatisticsFromBlocks(IRowBlockSource source, GramAccumulator accumulator, IProgress<double>? progress)
    {
        int n = source.Rows, dim = source.Dim;
        using var raw = _session.Allocate<double>((long)accumulator.BlockRows * dim);
        using var shiftDevice = _session.Allocate<double>(dim);
        double[]? shift = null;
        long seen = 0;
        foreach (var rb in source.EnumerateBlocks(accumulator.BlockRows))
        {
            if (shift is null)
            {
                // One block on the host (≤ 8192 rows): the shift only has to be near the mean. A non-finite
                // value here makes it NaN, and the kernel's check reports where.
                shift = new double[dim];
                for (int i = 0; i < rb.Count; i++)
                    for (int c = 0; c < dim; c++) shift[c] += rb.Data[(long)i * dim + c];
                for (int c = 0; c < dim; c++) shift[c] /= rb.Count;
                _session.Upload<double>(shift, shiftDevice.Start);
            }
            // Staged by the driver before Upload returns: the source may reuse its buffer for the next block.
            _session.Upload<double>(rb.Data.AsSpan(0, rb.Count * dim), raw.Start);
            accumulator.Add(_shiftRowsF64, raw.Start, rb.Count, rb.Start, shiftDevice.Start);
            seen += rb.Count;
            progress?.Report((double)seen / n);
        }
        if (seen != n) throw InputException.For(source.Name, $"expected {n} rows, read {seen}");
        return shift ?? new double[dim];
    }

    /// <summary>
    /// Σ (x − s)(x − s)ᵀ (DSYRK, lower triangle) and Σ (x − s) (DGEMM with a column of ones) over blocks of
    /// rows shifted on the device (shift_rows_f64 / shift_rows_f32_to_f64), with the first non-finite input.
    /// </summary>
    private sealed class GramAccumulator : IDisposable
    {
        private readonly CudaSession _session;
        private readonly int _dim;
        private readonly DeviceBuffer<double> _block;
        private readonly DeviceBuffer<double> _gram;
        private readonly DeviceBuffer<double> _sums;
        private readonly DeviceBuffer<double> _ones;
        private readonly DeviceBuffer<ulong> _firstBad;

        public GramAccumulator(CudaSession session, int dim, int blockRows)
        {
            _session = session;
            _dim = dim;
            BlockRows = blockRows;
            _block = session.Allocate<double>((long)blockRows * dim);
            _gram = session.Allocate<double>((long)dim * dim);
            _sums = session.Allocate<double>(dim);
            _ones = session.Allocate<double>(blockRows);
            _firstBad = session.Allocate<ulong>(1);
            session.Fill32(_gram.Start, 0, _gram.Count * 2);
            session.Fill32(_sums.Start, 0, _sums.Count * 2);
            session.Fill32(_firstBad.Start, 0xffffffffu, 2);
            var ones = new double[blockRows];
            Array.Fill(ones, 1.0);
            session.Upload<double>(ones, _ones.Start);
        }

        public int BlockRows { get; }

        /// <summary>Adds <paramref name="count"/> rows at <paramref name="rows"/> (float64 or float32 per the kernel).</summary>
        public void Add(KernelFunction shiftKernel, DevicePointer rows, int count, long rowStart, DevicePointer shift)
        {
            long total = (long)count * _dim;
            _session.Launch(shiftKernel, ((int)Math.Min((total + 255) / 256, 65535), 1), 256, 0, new KernelArguments()
                .Add(rows).Add(count).Add(_dim).Add(shift).Add(rowStart).Add(_block.Start).Add(_firstBad.Start));
            // Row-major [count, dim] is column-major [dim, count]: C += X Xᵀ in cuBLAS's view is the D x D Gram,
            // and X · 1 the column sums.
            _session.DsyrkLowerNoTrans(_dim, count, 1.0, _block.Start, _dim, 1.0, _gram.Start, _dim);
            _session.Dgemm(false, false, _dim, 1, count, 1.0, _block.Start, _dim, _ones.Start, count, 1.0, _sums.Start, _dim);
        }

        public GaussianStatistics Finish(string name, int n, double[] shift, CovarianceDivisor divisor)
        {
            int dim = _dim;
            Span<ulong> bad = stackalloc ulong[1];
            _session.Download(_firstBad.Start, bad);
            if (bad[0] != ulong.MaxValue)
                throw InputException.For(name, $"value at row {bad[0] / (ulong)dim}, column {bad[0] % (ulong)dim} is NaN or infinite (features must be finite)");
            var sums = new double[dim];
            _session.Download(_sums.Start, sums.AsSpan());
            var g = new double[(long)dim * dim];
            _session.Download(_gram.Start, g.AsSpan());
            var meanShifted = new double[dim];
            for (int c = 0; c < dim; c++) meanShifted[c] = sums[c] / n;
            double denominator = divisor == CovarianceDivisor.NMinusOne ? n - 1 : n;
            var covariance = new double[(long)dim * dim];
            for (int i = 0; i < dim; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    // cuBLAS filled the lower triangle in column-major order: element (i, j), i ≥ j, is at j·dim + i.
                    double v = (g[(long)j * dim + i] - n * meanShifted[i] * meanShifted[j]) / denominator;
                    covariance[(long)i * dim + j] = v;
                    covariance[(long)j * dim + i] = v;
                }
            }
            var mean = new double[dim];
            for (int c = 0; c < dim; c++) mean[c] = shift[c] + meanShifted[c];
            return new GaussianStatistics(mean, covariance, n, name);
        }

        public void Dispose()
        {
            _block.Dispose();
            _gram.Dispose();
            _sums.Dispose();
            _ones.Dispose();
            _firstBad.Dispose();
        }
    }

    // ------------------------------------------------------------------ Tr √(Σa Σb)

    /// <summary>Newton–Schulz iterations before the eigen route takes over.</summary>
    internal const int NewtonSchulzMaxIterations = 60;

    /// <summary>Residual ‖I − Z·Y‖_F / √D under which the iteration has converged outright.</summary>
    internal const double NewtonSchulzConverged = 1e-14;

    /// <summary>Largest residual accepted when it has stopped improving (the float64 floor, ≈ cond·eps·√D).</summary>
    internal const double NewtonSchulzFloor = 1e-6;

    /// <summary>Relative change of Tr Y between two iterations under which the trace counts as still.</summary>
    internal const double NewtonSchulzStillTrace = 1e-12;

    /// <summary>How the last <see cref="TraceSqrtProduct"/> was computed: route, Newton–Schulz iterations, last residual.</summary>
    public SqrtReport? LastSqrt { get; private set; }

    public double TraceSqrtProduct(double[] sigmaA, double[] sigmaB, int dim)
    {
        ArgumentNullException.ThrowIfNull(sigmaA);
        ArgumentNullException.ThrowIfNull(sigmaB);
        long d2 = (long)dim * dim;
        if (dim <= 0 || sigmaA.LongLength != d2 || sigmaB.LongLength != d2)
            throw new ArgumentException($"covariances must be {dim} x {dim}: got {sigmaA.Length} and {sigmaB.Length} values");
        if (d2 > int.MaxValue) throw new ArgumentException($"D = {dim} is beyond the square root's 32-bit cuBLAS vector lengths");
        // All eigenvalues of Σa·Σb are real and ≥ 0 (it is similar to Σa^½ Σb Σa^½), so their sum Tr(Σa·Σb)
        // bounds the spectral radius and A / Tr puts the spectrum in [0, 1], where Newton–Schulz converges.
        double trace = 0;
        for (int i = 0; i < dim; i++)
            for (int j = 0; j < dim; j++) trace += sigmaA[(long)i * dim + j] * sigmaB[(long)j * dim + i];
        if (!double.IsFinite(trace)) throw new InputException("covariance contains NaN or infinite values");
        if (trace <= 0)
        {
            LastSqrt = new SqrtReport("cpu", 0, double.NaN, "Tr(Σa·Σb) ≤ 0 (a zero covariance)");
            return new CpuBackend().TraceSqrtProduct(sigmaA, sigmaB, dim);
        }

        double? result;
        lock (_lock)
        {
            using var range = Nvtx.Range($"sqrtm: Newton–Schulz trace, D = {dim}");
            var ns = NewtonSchulzTrace(sigmaA, sigmaB, dim, trace);
            LastSqrt = ns.Report;
            result = ns.Value;
            if (result is null && _session.HasEigenSolver)
            {
                using var eigenRange = Nvtx.Range($"sqrtm: cuSOLVER eigen route, D = {dim}");
                result = EigenRouteTrace(sigmaA, sigmaB, dim);
                LastSqrt = ns.Report with { Route = "cusolver-eigen" };
            }
        }
        if (result is not null) return result.Value;
        // No cuSOLVER: the CPU's eigen route (pivoted Cholesky + symmetric eigenvalues) is the reference anyway.
        LastSqrt = LastSqrt! with { Route = "cpu" };
        return new CpuBackend().TraceSqrtProduct(sigmaA, sigmaB, dim);
    }

    /// <summary>
    /// Coupled Newton–Schulz on A = Σa·Σb / scale: Y → A^½, Z → A^−½. Each iteration forms E = I − Z·Y
    /// (one DGEMM), whose norm is the residual (cublasDnrm2 on the device: 8 bytes come back, not the matrix),
    /// T = I + E/2, then Y ← Y·T and Z ← T·Z; Tr Y is a strided cublasDdot with a vector of ones.
    /// For a spectrum in [0, 1] each eigen-direction's residual 1 − z·y falls monotonically and Tr Y never
    /// decreases, so: converged when the residual is below 1e-14, or when it has stopped improving (less than
    /// halved) below the float64 floor with a still trace; diverging (indefinite rounding, breakdown) when the
    /// residual exceeds 1.5 or grows 100-fold from its best or the trace falls; a residual that stalls above
    /// the floor with a still trace means directions with tiny or zero eigenvalues (singular or ill-conditioned
    /// statistics), whose roots the iteration cannot settle: the eigen route takes those.
    /// </summary>
    private (double? Value, SqrtReport Report) NewtonSchulzTrace(double[] sigmaA, double[] sigmaB, int dim, double scale)
    {
        _session.MakeCurrent();
        int n2 = dim * dim;
        using var a = _session.Allocate<double>(n2);
        using var b = _session.Allocate<double>(n2);
        using var identity = _session.Allocate<double>(n2);
        using var ones = _session.Allocate<double>(dim);
        using var yBuffer = _session.Allocate<double>(n2);
        using var zBuffer = _session.Allocate<double>(n2);
        using var t = _session.Allocate<double>(n2);
        using var scratchBuffer = _session.Allocate<double>(n2);
        var onesHost = new double[dim];
        Array.Fill(onesHost, 1.0);
        _session.Upload<double>(onesHost, ones.Start);
        _session.Fill32(identity.Start, 0, 2L * n2);
        _session.Daxpy(dim, 1.0, ones.Start, 1, identity.Start, dim + 1);
        _session.Upload<double>(sigmaA, a.Start);
        _session.Upload<double>(sigmaB, b.Start);
        DeviceBuffer<double> y = yBuffer, z = zBuffer, scratch = scratchBuffer;
        // The row-major/column-major transpose does not matter: Tr √(Mᵀ) = Tr √M.
        _session.Dgemm(false, false, dim, dim, dim, 1.0 / scale, a.Start, dim, b.Start, dim, 0.0, y.Start, dim);
        _session.Copy<double>(identity.Start, z.Start, n2);

        double rootDim = Math.Sqrt(dim);
        double previousResidual = double.PositiveInfinity, bestResidual = double.PositiveInfinity;
        double previousTrace = _session.Ddot(dim, y.Start, dim + 1, ones.Start, 1);
        if (previousTrace == 0) return (0, new SqrtReport("newton-schulz", 0, 0, "A = 0"));
        for (int iteration = 1; iteration <= NewtonSchulzMaxIterations; iteration++)
        {
            // E = I − Z·Y and its norm; T = I + E/2 = (3I − Z·Y)/2.
            _session.Copy<double>(identity.Start, t.Start, n2);
            _session.Dgemm(false, false, dim, dim, dim, -1.0, z.Start, dim, y.Start, dim, 1.0, t.Start, dim);
            double residual = _session.Dnrm2(n2, t.Start) / rootDim;
            _session.Dscal(n2, 0.5, t.Start);
            _session.Daxpy(dim, 1.0, ones.Start, 1, t.Start, dim + 1);
            // Y ← Y·T, Z ← T·Z (into the spare buffer, then swap).
            _session.Dgemm(false, false, dim, dim, dim, 1.0, y.Start, dim, t.Start, dim, 0.0, scratch.Start, dim);
            (y, scratch) = (scratch, y);
            _session.Dgemm(false, false, dim, dim, dim, 1.0, t.Start, dim, z.Start, dim, 0.0, scratch.Start, dim);
            (z, scratch) = (scratch, z);
            double traceY = _session.Ddot(dim, y.Start, dim + 1, ones.Start, 1);

            SqrtReport Report(string why) => new("newton-schulz", iteration, residual, why);
            if (!double.IsFinite(residual) || !double.IsFinite(traceY))
                return (null, Report("diverged: not finite"));
            if (residual > 1.5)
                return (null, Report($"diverged: residual {residual:G3} (a valid spectrum keeps it ≤ 1)"));
            if (traceY < previousTrace * (1 - 1e-10))
                return (null, Report("diverged: Tr Y fell (an indefinite direction from rounding)"));
            if (bestResidual < NewtonSchulzFloor && residual > 100 * bestResidual)
                return (null, Report($"diverged: residual rose from {bestResidual:G3} to {residual:G3}"));
            bool stillTrace = Math.Abs(traceY - previousTrace) <= NewtonSchulzStillTrace * Math.Abs(traceY);
            bool improving = residual < 0.5 * previousResidual;
            if (stillTrace && (residual <= NewtonSchulzConverged || (!improving && residual <= NewtonSchulzFloor)))
                return (traceY * Math.Sqrt(scale), Report("converged"));
            if (stillTrace && !improving && iteration >= 8)
                return (null, Report($"stalled at residual {residual:G3} with a still trace: singular or ill-conditioned statistics"));
            bestResidual = Math.Min(bestResidual, residual);
            previousResidual = residual;
            previousTrace = traceY;
        }
        return (null, new SqrtReport("newton-schulz", NewtonSchulzMaxIterations, previousResidual, "not converged"));
    }

    /// <summary>
    /// Tr √(Σa Σb) = Σ √λ(R Σb R) with R = Σa^½ = V·diag(√max(λ(Σa), 0))·Vᵀ: cusolverDnDsyevd with vectors on
    /// Σa, DDGMM and DGEMM for R, two DGEMMs for R Σb R, cusolverDnDsyevd without vectors on that. Every step
    /// is symmetric and backward stable, so singular and ill-conditioned statistics are no harder than others
    /// (tiny negative eigenvalues from rounding are clamped at 0, as on the CPU).
    /// </summary>
    private double EigenRouteTrace(double[] sigmaA, double[] sigmaB, int dim)
    {
        _session.MakeCurrent();
        int n2 = dim * dim;
        using var v = _session.Allocate<double>(n2);
        using var b = _session.Allocate<double>(n2);
        using var w = _session.Allocate<double>(dim);
        using var scaled = _session.Allocate<double>(n2);
        using var r = _session.Allocate<double>(n2);
        using var rb = _session.Allocate<double>(n2);
        // Symmetric: row-major and column-major are the same matrix.
        _session.Upload<double>(sigmaA, v.Start);
        _session.Upload<double>(sigmaB, b.Start);
        _session.Dsyevd(true, dim, v.Start, dim, w.Start);
        var lambda = new double[dim];
        _session.Download(w.Start, lambda.AsSpan());
        for (int i = 0; i < dim; i++) lambda[i] = Math.Sqrt(Math.Max(lambda[i], 0));
        _session.Upload<double>(lambda, w.Start);
        _session.DdgmmRight(dim, dim, v.Start, dim, w.Start, scaled.Start, dim);
        _session.Dgemm(false, true, dim, dim, dim, 1.0, scaled.Start, dim, v.Start, dim, 0.0, r.Start, dim);
        _session.Dgemm(false, false, dim, dim, dim, 1.0, r.Start, dim, b.Start, dim, 0.0, rb.Start, dim);
        _session.Dgemm(false, false, dim, dim, dim, 1.0, rb.Start, dim, r.Start, dim, 0.0, scaled.Start, dim);
        _session.Dsyevd(false, dim, scaled.Start, dim, w.Start);
        _session.Download(w.Start, lambda.AsSpan());
        double sum = 0;
        foreach (double mu in lambda) sum += Math.Sqrt(Math.Max(mu, 0));
        return sum;
    }

    // ------------------------------------------------------------------ C = A·Bᵀ

    public void MultiplyTransposed(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int dim, Span<float> c)
    {
        if (m < 0 || n < 0 || dim <= 0) throw new ArgumentException($"invalid shapes [{m}, {dim}] x [{n}, {dim}]");
        if (a.Length < (long)m * dim || b.Length < (long)n * dim || c.Length < (long)m * n)
            throw new ArgumentException("span shorter than its shape");
        if (m == 0 || n == 0) return;
        lock (_lock)
        {
            _session.MakeCurrent();
            // Always fp32: --precision only speeds up the k-NN distance GEMMs (whose decisions are refined to
            // float64); KID's kernel sums have no such refinement and would change silently.
            using var ra = ResidentFeatures.Upload(_session, a[..(m * dim)], m, dim, "A");
            using var rb = ResidentFeatures.Upload(_session, b[..(n * dim)], n, dim, "B");
            using var da = DeviceMatrix.Prepare(_session, _prepareRows, ra, null, CudaPrecision.Fp32);
            using var db = DeviceMatrix.Prepare(_session, _prepareRows, rb, null, CudaPrecision.Fp32);
            using var dc = _session.Allocate<float>((long)m * n);
            DotTile(da, 0, m, db, 0, n, dc, ld: n);
            _session.Download(dc.Start, c[..(m * n)]);
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>
    /// dots[i·ld + j] = rows[rowStart + i] · cols[colStart + j]. Row-major X [r, D] is column-major Xᵀ [D, r],
    /// so the row-major tile G = R·Cᵀ is, column-major, Gᵀ = C·Rᵀ = (Cᵀ)ᵀ·(Rᵀ): op(A) = T on the column set.
    /// The arithmetic is the one both matrices were prepared for.
    /// </summary>
    private void DotTile(DeviceMatrix rowsMatrix, int rowStart, int rows, DeviceMatrix colsMatrix, int colStart, int cols, DeviceBuffer<float> dots, int ld)
    {
        if (rowsMatrix.Precision != colsMatrix.Precision)
            throw new InvalidOperationException($"matrices prepared for {rowsMatrix.Precision} and {colsMatrix.Precision} cannot be multiplied together");
        int dim = rowsMatrix.Dim;
        var aCols = colsMatrix.RowPointer(colStart);
        var bRows = rowsMatrix.RowPointer(rowStart);
        switch (rowsMatrix.Precision)
        {
            case CudaPrecision.Fp32:
                _session.Sgemm(true, false, cols, rows, dim, 1f, aCols, dim, bRows, dim, 0f, dots.Start, ld);
                break;
            case CudaPrecision.Tf32:
                _session.GemmEx(true, false, cols, rows, dim, 1f, aCols, CudaConstants.CudaR32F, dim, bRows, dim, 0f, dots.Start, ld, CudaConstants.CublasCompute32FFastTf32);
                break;
            default:
                _session.GemmEx(true, false, cols, rows, dim, 1f, aCols, CudaConstants.CudaR16F, dim, bRows, dim, 0f, dots.Start, ld, CudaConstants.CublasCompute32F);
                break;
        }
    }

    /// <summary>
    /// Identical-row classes of <paramref name="a"/> (and <paramref name="b"/>'s rows after it), for the kernels'
    /// exact-0 distances of identical rows: row_hashes on the device, class = first row with the same hash on the
    /// host (O(N) with a dictionary of N·8 bytes downloaded), verify_row_classes on the device (class −1 where a
    /// row differs from its class's first row: a hash collision; those pairs are compared row by row).
    /// </summary>
    private DeviceBuffer<int> RowClasses(DeviceMatrix a, DeviceMatrix? b)
    {
        int nA = a.Rows, nB = b?.Rows ?? 0, total = nA + nB;
        if (!UseRowClasses)
        {
            // Every class −1: every near-0 pair is compared row by row (the path of a hash collision).
            var unknown = _session.Allocate<int>(total);
            _session.Fill32(unknown.Start, 0xffffffffu, total);
            return unknown;
        }
        var hashes = new ulong[total];
        using (var deviceHashes = _session.Allocate<ulong>(total))
        {
            _session.Launch(_rowHashes, (Blocks(total, WarpRowsPerBlock), 1), 256, 0, new KernelArguments()
                .Add(a.SingleValues).Add(a.HalfValues).Add(nA)
                .Add(b?.SingleValues ?? default).Add(b?.HalfValues ?? default).Add(nB).Add(a.Dim).Add(deviceHashes.Start));
            _session.Download(deviceHashes.Start, hashes.AsSpan());
        }
        var first = new Dictionary<ulong, int>(total);
        var classes = new int[total];
        for (int i = 0; i < total; i++)
        {
            ref int slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(first, hashes[i], out bool exists);
            if (!exists) slot = i;
            classes[i] = slot;
        }
        var buffer = UploadArray(classes);
        _session.Launch(_verifyRowClasses, (Blocks(total, WarpRowsPerBlock), 1), 256, 0, new KernelArguments()
            .Add(a.SingleValues).Add(a.HalfValues).Add(nA)
            .Add(b?.SingleValues ?? default).Add(b?.HalfValues ?? default).Add(nB).Add(a.Dim).Add(buffer.Start));
        return buffer;
    }

    /// <summary>
    /// Double-buffered distance tiles: the GEMM of tile t (main stream, where cuBLAS runs) writes one of two
    /// buffers while the reductions of tile t − 1 (side stream) read the other. Ordered by events only, as the
    /// driver requires of two streams: the side stream waits for the GEMM that filled its buffer (TileReady), and
    /// the main stream, before a GEMM overwrites a buffer, waits for the reductions that last read it (NextTile).
    /// Reductions stay in tile order on the one side stream (row state carried across column tiles needs that).
    /// Work queued on the main stream before the first GEMM (uploads, fills) is ordered before every reduction by
    /// the first wait. <see cref="Finish"/> makes the main stream wait for all reductions, so downloads, and the
    /// frees that follow its synchronisation, come after them; Dispose does the same on an error path.
    /// </summary>
    private sealed class TilePipeline : IDisposable
    {
        private readonly CudaSession _session;
        private readonly DeviceBuffer<float>?[] _buffers = new DeviceBuffer<float>?[2];
        private readonly CudaEvent?[] _gemmDone = new CudaEvent?[2];
        private readonly CudaEvent?[] _reduced = new CudaEvent?[2];
        private readonly bool[] _pending = new bool[2];
        private int _current = 1;

        public TilePipeline(CudaSession session, long tileElements)
        {
            _session = session;
            try
            {
                for (int b = 0; b < 2; b++)
                {
                    _buffers[b] = session.Allocate<float>(tileElements);
                    _gemmDone[b] = session.CreateOrderingEvent();
                    _reduced[b] = session.CreateOrderingEvent();
                }
            }
            catch
            {
                Release();
                throw;
            }
        }

        /// <summary>The buffer the next GEMM writes (main stream); queued main work now waits for its last readers.</summary>
        public DeviceBuffer<float> NextTile()
        {
            _current ^= 1;
            if (_pending[_current]) _session.MainStreamWaits(_reduced[_current]!);
            return _buffers[_current]!;
        }

        /// <summary>Call after queuing the GEMM: side-stream work queued from now on waits for it.</summary>
        public void TileReady()
        {
            _session.Record(_gemmDone[_current]!);
            _session.SideStreamWaits(_gemmDone[_current]!);
        }

        /// <summary>Call after queuing the tile's reductions on the side stream.</summary>
        public void TileReduced()
        {
            _session.RecordOnSideStream(_reduced[_current]!);
            _pending[_current] = true;
        }

        /// <summary>Main-stream work queued from now on waits for every reduction queued so far.</summary>
        public void Finish()
        {
            for (int b = 0; b < 2; b++)
                if (_pending[b])
                {
                    _session.MainStreamWaits(_reduced[b]!);
                    _pending[b] = false;
                }
        }

        public void Dispose()
        {
            try
            {
                Finish();
            }
            catch (CudaException)
            {
                // After a device error: the session's disposal synchronises both streams before freeing.
            }
            Release();
        }

        private void Release()
        {
            for (int b = 0; b < 2; b++)
            {
                _gemmDone[b]?.Dispose();
                _reduced[b]?.Dispose();
                _buffers[b]?.Dispose();
            }
        }
    }

    private DeviceBuffer<T> UploadStacked<T>(IReadOnlyList<T[]> arrays, int length) where T : unmanaged
    {
        var buffer = _session.Allocate<T>((long)Math.Max(arrays.Count, 1) * length);
        for (int k = 0; k < arrays.Count; k++) _session.Upload<T>(arrays[k], buffer.At((long)k * length));
        return buffer;
    }

    private T[][] DownloadStacked<T>(DeviceBuffer<T> buffer, int count, int length) where T : unmanaged
    {
        var result = new T[count][];
        for (int k = 0; k < count; k++)
        {
            result[k] = new T[length];
            _session.Download(buffer.At((long)k * length), result[k].AsSpan());
        }
        return result;
    }

    // ------------------------------------------------------------------ resident inputs

    /// <summary>
    /// Keeps a device copy of each set, made on its first use, until the result is disposed: the k-NN radii of
    /// both sets and the cross pass then upload each set once instead of twice.
    /// </summary>
    public IDisposable? RetainInputs(params FeatureMatrix[] sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        lock (_lock)
        {
            var added = new List<FeatureMatrix>();
            foreach (var set in sets)
                if (_retained.TryAdd(set, null)) added.Add(set);
            return new Retention(this, added);
        }
    }

    private sealed class Retention(CudaBackend owner, List<FeatureMatrix> sets) : IDisposable
    {
        private bool _released;

        public void Dispose()
        {
            lock (owner._lock)
            {
                if (_released) return;
                _released = true;
                if (owner._disposed) return;
                owner._session.MakeCurrent();
                foreach (var set in sets)
                {
                    if (owner._retained.Remove(set, out var resident)) resident?.Dispose();
                }
            }
        }
    }

    /// <summary>A lease on a set's device copy: the retained one (kept), or one made for this call (freed).</summary>
    private readonly struct ResidentLease(ResidentFeatures features, bool owned) : IDisposable
    {
        public ResidentFeatures Features { get; } = features;

        public void Dispose()
        {
            if (owned) Features.Dispose();
        }
    }

    private ResidentLease Resident(FeatureMatrix m)
    {
        if (_retained.TryGetValue(m, out var kept))
        {
            if (kept is null)
            {
                kept = ResidentFeatures.Upload(_session, m);
                _retained[m] = kept;
            }
            return new ResidentLease(kept, owned: false);
        }
        return new ResidentLease(ResidentFeatures.Upload(_session, m), owned: true);
    }

    private DevicePointer Mean(ResidentFeatures features) => features.Mean(_columnPartialSums, _columnMeansFinish);

    private static int Blocks(int count, int per) => (count + per - 1) / per;

    /// <summary>Runs <paramref name="body"/>; on device out-of-memory halves the tile and runs it again.</summary>
    private T WithShrinkingTiles<T>(Func<T> body)
    {
        while (true)
        {
            try
            {
                return body();
            }
            catch (CudaException e) when (e.IsOutOfMemory && _tileSize > MinimumTile)
            {
                _tileSize = Math.Max(MinimumTile, _tileSize / 2);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                _session.MakeCurrent();
            }
            catch (CudaException)
            {
                // Tearing down after a device error: release what can be released.
            }
            foreach (var set in _retained.Values) set?.Dispose();
            _retained.Clear();
            _knnModule.Dispose();
            _crossModule.Dispose();
            _prepareModule.Dispose();
            _session.Dispose();
        }
    }

    /// <summary>Timing hooks for the CUDA benchmark (events on the backend's stream, profiler range).</summary>
    internal CudaSession Session => _session;
}

/// <summary>
/// How the CUDA backend computed Tr √(Σa Σb): <c>Route</c> is "newton-schulz" (accepted), "cusolver-eigen"
/// (Newton–Schulz gave up, the GPU eigen route answered) or "cpu"; <c>Iterations</c> and <c>Residual</c>
/// (‖I − Z·Y‖_F / √D) are Newton–Schulz's last; <c>Reason</c> says why it stopped.
/// </summary>
public sealed record SqrtReport(string Route, int Iterations, double Residual, string Reason)
{
    public override string ToString() =>
        $"{Route}: Newton–Schulz {Iterations} iterations, residual {Residual:G3} ({Reason})";
}
