using System.Runtime.InteropServices;
using System.Text;

namespace GenMetrics.Cuda.Interop;

/// <summary>What the driver reports about one device.</summary>
public sealed record CudaDeviceInfo(int Ordinal, string Name, long TotalMemoryBytes, int ComputeMajor, int ComputeMinor, int Multiprocessors)
{
    /// <summary>"sm_90" for compute capability 9.0.</summary>
    public string Arch => $"sm_{ComputeMajor}{ComputeMinor}";

    public override string ToString() =>
        $"#{Ordinal} {Name}, {TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, compute {ComputeMajor}.{ComputeMinor}, {Multiprocessors} SMs";
}

/// <summary>A device address plus an element offset; only interop code can turn it into a number.</summary>
internal readonly struct DevicePointer(ulong address)
{
    internal readonly ulong Address = address;
}

/// <summary>Device memory for <c>count</c> values of T, freed on Dispose.</summary>
internal sealed unsafe class DeviceBuffer<T> : IDisposable where T : unmanaged
{
    private readonly CudaSession _session;
    private ulong _address;

    internal DeviceBuffer(CudaSession session, ulong address, long count)
    {
        _session = session;
        _address = address;
        Count = count;
    }

    public long Count { get; }

    public DevicePointer At(long elementOffset)
    {
        ObjectDisposedException.ThrowIf(_address == 0, this);
        if (elementOffset < 0 || elementOffset > Count) throw new ArgumentOutOfRangeException(nameof(elementOffset));
        return new DevicePointer(_address + (ulong)(elementOffset * sizeof(T)));
    }

    public DevicePointer Start => At(0);

    public void Dispose()
    {
        if (_address == 0) return;
        _session.Free(_address);
        _address = 0;
    }
}

/// <summary>A CUDA event for timing work on the session's stream.</summary>
internal sealed unsafe class CudaEvent : IDisposable
{
    private readonly DriverApi _api;
    private nint _handle;

    internal CudaEvent(DriverApi api, nint handle)
    {
        _api = api;
        _handle = handle;
    }

    internal nint Handle => _handle;

    /// <summary>Milliseconds between two recorded events (waits for <paramref name="end"/>).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        var api = start._api;
        CudaStatus.Check(CudaLibrary.Driver, "cuEventSynchronize", api.cuEventSynchronize(end._handle));
        float ms;
        CudaStatus.Check(CudaLibrary.Driver, "cuEventElapsedTime", api.cuEventElapsedTime(&ms, start._handle, end._handle));
        return ms;
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        _api.cuEventDestroy(_handle);
        _handle = 0;
    }
}

/// <summary>A loaded module (CUBIN or PTX image) and its kernels.</summary>
internal sealed unsafe class KernelModule : IDisposable
{
    private readonly DriverApi _api;
    private nint _module;

    internal KernelModule(DriverApi api, nint module)
    {
        _api = api;
        _module = module;
    }

    public KernelFunction GetFunction(string name)
    {
        ObjectDisposedException.ThrowIf(_module == 0, this);
        byte[] utf8 = Encoding.UTF8.GetBytes(name + "\0");
        nint function;
        fixed (byte* p = utf8)
            CudaStatus.Check(CudaLibrary.Driver, $"cuModuleGetFunction({name})", _api.cuModuleGetFunction(&function, _module, p));
        return new KernelFunction(name, function);
    }

    public void Dispose()
    {
        if (_module == 0) return;
        _api.cuModuleUnload(_module);
        _module = 0;
    }
}

/// <summary>A kernel entry point; valid while its module is loaded.</summary>
internal sealed class KernelFunction(string name, nint handle)
{
    public string Name { get; } = name;
    internal nint Handle { get; } = handle;
}

/// <summary>
/// Kernel arguments in launch order. Each value is copied into one unmanaged block so that
/// cuLaunchKernel's array of pointers stays valid during the call.
/// </summary>
internal sealed class KernelArguments
{
    private readonly List<(ulong Bits, int Size)> _values = [];

    public KernelArguments Add(DevicePointer p) { _values.Add((p.Address, 8)); return this; }
    public KernelArguments Add(int v) { _values.Add(((uint)v, 4)); return this; }
    public KernelArguments Add(float v) { _values.Add((BitConverter.SingleToUInt32Bits(v), 4)); return this; }
    public KernelArguments Add(long v) { _values.Add(((ulong)v, 8)); return this; }

    internal IReadOnlyList<(ulong Bits, int Size)> Values => _values;
}

/// <summary>
/// One device's primary context, a non-blocking stream and a cuBLAS handle bound to it (and a cuSOLVER
/// handle once the eigen route needs one). All work goes through this stream, except the reductions of distance
/// tiles, which may run on a second (side) stream ordered with the main one by events only. Every method makes the context
/// current on the calling thread first, so the backend may be called from any thread (one at a time).
/// Stream semantics kept whatever the driver does:
/// - device memory is never freed while queued work may still use it: <see cref="DeviceBuffer{T}.Dispose"/>
///   only queues the address, and cuMemFree runs after the next stream synchronisation (cuMemFree is not
///   promised to wait for the stream); side-stream work that reads a buffer must be awaited by the main stream
///   (<see cref="MainStreamWaits"/>) before the buffer is disposed;
/// - host memory handed to an asynchronous upload is copied into pinned staging buffers (cuMemHostAlloc) before
///   the upload is queued, so the caller may reuse or the GC move it at once; the copy of one chunk overlaps the
///   DMA of the previous one. Without pinned memory, each upload is followed by a synchronisation.
/// </summary>
internal sealed unsafe class CudaSession : IDisposable
{
    /// <summary>Bytes per pinned staging buffer (two of them, used in turn).</summary>
    internal const int StagingBytes = 8 << 20;

    private readonly DriverApi _driver;
    private readonly CublasApi _cublas;
    private readonly CusolverApi? _cusolver;
    private readonly List<ulong> _pendingFrees = [];
    private readonly byte*[] _staging = new byte*[2];
    private readonly nint[] _stagingDone = new nint[2];
    private readonly bool[] _stagingInFlight = new bool[2];
    private int _nextStaging;
    private bool _stagingUnavailable;
    private nint _context;
    private nint _stream;
    private nint _sideStream;
    private nint _cublasHandle;
    private nint _cusolverHandle;
    private bool _disposed;

    private CudaSession(CudaLibraries libs, CudaDeviceInfo device)
    {
        _driver = libs.RequireDriver();
        _cublas = libs.RequireCublas();
        _cusolver = libs.Cusolver;
        Device = device;
    }

    public CudaDeviceInfo Device { get; }
    public int DriverVersion { get; private set; }
    public int CublasVersion { get; private set; }

    /// <summary>cuSOLVER's version ("12.0.0"), or null when it is not loaded.</summary>
    public string? CusolverVersion => _cusolver?.VersionText();

    /// <summary>Initialises the driver and returns its version (1000·major + 10·minor).</summary>
    public static int InitialiseDriver(CudaLibraries libs)
    {
        var d = libs.RequireDriver();
        CudaStatus.Check(CudaLibrary.Driver, "cuInit", d.cuInit(0));
        int version;
        CudaStatus.Check(CudaLibrary.Driver, "cuDriverGetVersion", d.cuDriverGetVersion(&version));
        return version;
    }

    /// <summary>All devices the driver sees (cuInit must have succeeded).</summary>
    public static IReadOnlyList<CudaDeviceInfo> EnumerateDevices(CudaLibraries libs)
    {
        var d = libs.RequireDriver();
        int count;
        CudaStatus.Check(CudaLibrary.Driver, "cuDeviceGetCount", d.cuDeviceGetCount(&count));
        var list = new List<CudaDeviceInfo>();
        byte* name = stackalloc byte[256];
        for (int i = 0; i < count; i++)
        {
            int dev;
            CudaStatus.Check(CudaLibrary.Driver, "cuDeviceGet", d.cuDeviceGet(&dev, i));
            CudaStatus.Check(CudaLibrary.Driver, "cuDeviceGetName", d.cuDeviceGetName(name, 256, dev));
            nuint bytes;
            CudaStatus.Check(CudaLibrary.Driver, "cuDeviceTotalMem", d.cuDeviceTotalMem(&bytes, dev));
            int major, minor, sms;
            CudaStatus.Check(CudaLibrary.Driver, "cuDeviceGetAttribute", d.cuDeviceGetAttribute(&major, CudaConstants.AttributeComputeCapabilityMajor, dev));
            CudaStatus.Check(CudaLibrary.Driver, "cuDeviceGetAttribute", d.cuDeviceGetAttribute(&minor, CudaConstants.AttributeComputeCapabilityMinor, dev));
            CudaStatus.Check(CudaLibrary.Driver, "cuDeviceGetAttribute", d.cuDeviceGetAttribute(&sms, CudaConstants.AttributeMultiprocessorCount, dev));
            list.Add(new CudaDeviceInfo(dev, Marshal.PtrToStringUTF8((nint)name) ?? "?", (long)bytes, major, minor, sms));
        }
        return list;
    }

    /// <summary>Retains the device's primary context and creates the stream and cuBLAS handle.</summary>
    public static CudaSession Open(CudaLibraries libs, CudaDeviceInfo device, int driverVersion)
    {
        var session = new CudaSession(libs, device) { DriverVersion = driverVersion };
        try
        {
            session.Initialise();
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private void Initialise()
    {
        nint ctx;
        CudaStatus.Check(CudaLibrary.Driver, "cuDevicePrimaryCtxRetain", _driver.cuDevicePrimaryCtxRetain(&ctx, Device.Ordinal));
        _context = ctx;
        MakeCurrent();
        nint stream;
        CudaStatus.Check(CudaLibrary.Driver, "cuStreamCreate", _driver.cuStreamCreate(&stream, CudaConstants.StreamNonBlocking));
        _stream = stream;
        nint handle;
        CudaStatus.Check(CudaLibrary.Cublas, "cublasCreate", _cublas.cublasCreate(&handle));
        _cublasHandle = handle;
        CudaStatus.Check(CudaLibrary.Cublas, "cublasSetStream", _cublas.cublasSetStream(_cublasHandle, _stream));
        int version;
        CudaStatus.Check(CudaLibrary.Cublas, "cublasGetVersion", _cublas.cublasGetVersion(_cublasHandle, &version));
        CublasVersion = version;
    }

    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CudaStatus.Check(CudaLibrary.Driver, "cuCtxSetCurrent", _driver.cuCtxSetCurrent(_context));
    }

    // ---- memory ----

    public DeviceBuffer<T> Allocate<T>(long count) where T : unmanaged
    {
        ulong address;
        nuint bytes = (nuint)(Math.Max(count, 1) * sizeof(T));
        int rc = _driver.cuMemAlloc(&address, bytes);
        if (rc == CudaStatus.DriverOutOfMemory && _pendingFrees.Count > 0)
        {
            // Memory waiting for the stream to drain may be what is missing.
            Synchronize();
            rc = _driver.cuMemAlloc(&address, bytes);
        }
        CudaStatus.Check(CudaLibrary.Driver, $"cuMemAlloc({bytes} bytes)", rc);
        return new DeviceBuffer<T>(this, address, count);
    }

    /// <summary>
    /// Frees device memory once the stream has finished all work queued so far (which may read it): the address
    /// waits in a list until the next <see cref="Synchronize"/>.
    /// </summary>
    internal void Free(ulong address)
    {
        if (_disposed) return;
        lock (_pendingFrees) _pendingFrees.Add(address);
        // Bound the list without throwing from Dispose paths: a failed synchronisation keeps the memory queued.
        if (_pendingFrees.Count >= 256 && _driver.cuCtxSetCurrent(_context) == 0 && _driver.cuStreamSynchronize(_stream) == 0)
            ReleasePendingFrees();
    }

    private void ReleasePendingFrees()
    {
        ulong[] addresses;
        lock (_pendingFrees)
        {
            if (_pendingFrees.Count == 0) return;
            addresses = [.. _pendingFrees];
            _pendingFrees.Clear();
        }
        _driver.cuCtxSetCurrent(_context);
        foreach (var a in addresses) _driver.cuMemFree(a);
    }

    /// <summary>Free and total device memory, after releasing memory that only waited for the stream.</summary>
    public (long Free, long Total) MemoryInfo()
    {
        if (_pendingFrees.Count > 0) Synchronize();
        nuint free, total;
        CudaStatus.Check(CudaLibrary.Driver, "cuMemGetInfo", _driver.cuMemGetInfo(&free, &total));
        return ((long)free, (long)total);
    }

    /// <summary>Whether uploads go through pinned staging buffers (false when cuMemHostAlloc refused).</summary>
    public bool PinnedStaging => !_stagingUnavailable;

    /// <summary>
    /// Copies host values to the device. The values are first copied into a pinned staging buffer (in chunks of
    /// <see cref="StagingBytes"/>, two buffers in turn, so that the copy of one chunk overlaps the DMA of the
    /// previous one; large chunks are copied by several cores), so the span may be reused, and the GC may move
    /// it, as soon as this returns.
    /// </summary>
    public void Upload<T>(ReadOnlySpan<T> source, DevicePointer destination) where T : unmanaged
    {
        if (source.IsEmpty) return;
        var bytes = MemoryMarshal.AsBytes(source);
        if (!EnsureStaging())
        {
            // No pinned memory: a pageable upload is only guaranteed complete after a synchronisation.
            fixed (byte* p = bytes)
            {
                CudaStatus.Check(CudaLibrary.Driver, "cuMemcpyHtoDAsync",
                    _driver.cuMemcpyHtoDAsync(destination.Address, p, (nuint)bytes.Length, _stream));
                Synchronize();
            }
            return;
        }
        for (int offset = 0; offset < bytes.Length; offset += StagingBytes)
        {
            int count = Math.Min(StagingBytes, bytes.Length - offset);
            int slot = _nextStaging;
            _nextStaging ^= 1;
            if (_stagingInFlight[slot])
            {
                // The DMA that last read this buffer must be done before it is overwritten.
                CudaStatus.Check(CudaLibrary.Driver, "cuEventSynchronize", _driver.cuEventSynchronize(_stagingDone[slot]));
                _stagingInFlight[slot] = false;
            }
            fixed (byte* from = bytes)
                CopyToStaging(from + offset, _staging[slot], count);
            CudaStatus.Check(CudaLibrary.Driver, "cuMemcpyHtoDAsync",
                _driver.cuMemcpyHtoDAsync(destination.Address + (ulong)offset, _staging[slot], (nuint)count, _stream));
            CudaStatus.Check(CudaLibrary.Driver, "cuEventRecord", _driver.cuEventRecord(_stagingDone[slot], _stream));
            _stagingInFlight[slot] = true;
        }
    }

    /// <summary>The host half of an upload: one core copies ~10 GB/s, so large chunks are copied by several.</summary>
    private static void CopyToStaging(byte* source, byte* destination, int count)
    {
        const int Slice = 1 << 20;
        int slices = (count + Slice - 1) / Slice;
        if (slices < 2 || Environment.ProcessorCount < 2)
        {
            Buffer.MemoryCopy(source, destination, count, count);
            return;
        }
        nint src = (nint)source, dst = (nint)destination;
        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(Environment.ProcessorCount, 8) }, i =>
        {
            long start = (long)i * Slice;
            long length = Math.Min(Slice, count - start);
            Buffer.MemoryCopy((byte*)src + start, (byte*)dst + start, length, length);
        });
    }

    private bool EnsureStaging()
    {
        if (_stagingUnavailable) return false;
        if (_staging[0] is not null) return true;
        for (int i = 0; i < 2; i++)
        {
            void* p;
            nint e;
            if (_driver.cuMemHostAlloc(&p, StagingBytes, CudaConstants.HostAllocPortable) != 0)
            {
                _stagingUnavailable = true; // e.g. a locked-memory limit: fall back to synchronised pageable uploads
                FreeStaging();
                return false;
            }
            _staging[i] = (byte*)p;
            CudaStatus.Check(CudaLibrary.Driver, "cuEventCreate", _driver.cuEventCreate(&e, CudaConstants.EventDisableTiming));
            _stagingDone[i] = e;
        }
        return true;
    }

    private void FreeStaging()
    {
        for (int i = 0; i < 2; i++)
        {
            if (_staging[i] is not null) _driver.cuMemFreeHost(_staging[i]);
            if (_stagingDone[i] != 0) _driver.cuEventDestroy(_stagingDone[i]);
            _staging[i] = null;
            _stagingDone[i] = 0;
            _stagingInFlight[i] = false;
        }
    }

    /// <summary>Copies device values to the host and waits for the copy (and all earlier work on the stream).</summary>
    public void Download<T>(DevicePointer source, Span<T> destination) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        fixed (T* p = destination)
        {
            CudaStatus.Check(CudaLibrary.Driver, "cuMemcpyDtoHAsync",
                _driver.cuMemcpyDtoHAsync(p, source.Address, (nuint)(destination.Length * sizeof(T)), _stream));
            Synchronize();
        }
    }

    /// <summary>Fills <paramref name="count"/> 32-bit words with <paramref name="bits"/>.</summary>
    public void Fill32(DevicePointer destination, uint bits, long count) =>
        CudaStatus.Check(CudaLibrary.Driver, "cuMemsetD32Async", _driver.cuMemsetD32Async(destination.Address, bits, (nuint)count, _stream));

    public void Copy<T>(DevicePointer source, DevicePointer destination, long count) where T : unmanaged =>
        CudaStatus.Check(CudaLibrary.Driver, "cuMemcpyDtoDAsync",
            _driver.cuMemcpyDtoDAsync(destination.Address, source.Address, (nuint)(count * sizeof(T)), _stream));

    /// <summary>Waits for all work queued on the stream, then frees the device memory that waited for it.</summary>
    public void Synchronize()
    {
        CudaStatus.Check(CudaLibrary.Driver, "cuStreamSynchronize", _driver.cuStreamSynchronize(_stream));
        ReleasePendingFrees();
    }

    // ---- events and profiling ----

    public CudaEvent CreateEvent()
    {
        nint e;
        CudaStatus.Check(CudaLibrary.Driver, "cuEventCreate", _driver.cuEventCreate(&e, CudaConstants.EventDefault));
        return new CudaEvent(_driver, e);
    }

    public void Record(CudaEvent e) =>
        CudaStatus.Check(CudaLibrary.Driver, "cuEventRecord", _driver.cuEventRecord(e.Handle, _stream));

    // ---- the side stream (reductions overlapping the next GEMM) ----

    /// <summary>The second non-blocking stream, created on first use; nothing orders it with the main stream but events.</summary>
    private nint SideStream()
    {
        if (_sideStream == 0)
        {
            nint stream;
            CudaStatus.Check(CudaLibrary.Driver, "cuStreamCreate", _driver.cuStreamCreate(&stream, CudaConstants.StreamNonBlocking));
            _sideStream = stream;
        }
        return _sideStream;
    }

    /// <summary>An event for ordering only (CU_EVENT_DISABLE_TIMING: cheaper to record and wait on).</summary>
    public CudaEvent CreateOrderingEvent()
    {
        nint e;
        CudaStatus.Check(CudaLibrary.Driver, "cuEventCreate", _driver.cuEventCreate(&e, CudaConstants.EventDisableTiming));
        return new CudaEvent(_driver, e);
    }

    /// <summary>Records <paramref name="e"/> on the side stream (after the work queued there so far).</summary>
    public void RecordOnSideStream(CudaEvent e) =>
        CudaStatus.Check(CudaLibrary.Driver, "cuEventRecord", _driver.cuEventRecord(e.Handle, SideStream()));

    /// <summary>Side-stream work queued from now on waits for the latest record of <paramref name="e"/> (cuStreamWaitEvent).</summary>
    public void SideStreamWaits(CudaEvent e) =>
        CudaStatus.Check(CudaLibrary.Driver, "cuStreamWaitEvent", _driver.cuStreamWaitEvent(SideStream(), e.Handle, 0));

    /// <summary>
    /// Main-stream work queued from now on (GEMMs, copies, downloads, and so the frees after its synchronisation)
    /// waits for the latest record of <paramref name="e"/>.
    /// </summary>
    public void MainStreamWaits(CudaEvent e) =>
        CudaStatus.Check(CudaLibrary.Driver, "cuStreamWaitEvent", _driver.cuStreamWaitEvent(_stream, e.Handle, 0));

    /// <summary>cuProfilerStart/Stop (for Nsight Systems' --capture-range=cudaProfilerApi); no-op when absent.</summary>
    public void Profiler(bool start)
    {
        delegate* unmanaged<int> f = start ? _driver.cuProfilerStart : _driver.cuProfilerStop;
        if (f is null) return;
        CudaStatus.Check(CudaLibrary.Driver, start ? "cuProfilerStart" : "cuProfilerStop", f());
    }

    // ---- modules and launches ----

    public KernelModule LoadModule(byte[] image)
    {
        nint module;
        // The image must be NUL-terminated when it is PTX text; a CUBIN is recognised by its ELF header.
        fixed (byte* p = image)
            CudaStatus.Check(CudaLibrary.Driver, "cuModuleLoadDataEx", _driver.cuModuleLoadDataEx(&module, p, 0, null, null));
        return new KernelModule(_driver, module);
    }

    /// <summary>
    /// Queues a kernel on the stream, or with <paramref name="onSideStream"/> on the side stream (the reductions
    /// of distance tiles; see <see cref="SideStreamWaits"/> and <see cref="MainStreamWaits"/> for the ordering).
    /// </summary>
    public void Launch(KernelFunction function, (int X, int Y) grid, int blockThreads, int sharedBytes, KernelArguments args, bool onSideStream = false)
    {
        nint stream = onSideStream ? SideStream() : _stream;
        var values = args.Values;
        int count = values.Count;
        ulong* storage = stackalloc ulong[Math.Max(count, 1)];
        void** pointers = stackalloc void*[Math.Max(count, 1)];
        for (int i = 0; i < count; i++)
        {
            storage[i] = values[i].Bits;
            // Little-endian: a 4-byte argument is the low half of its 8-byte slot.
            pointers[i] = &storage[i];
        }
        CudaStatus.Check(CudaLibrary.Driver, $"cuLaunchKernel({function.Name})",
            _driver.cuLaunchKernel(function.Handle, (uint)grid.X, (uint)grid.Y, 1, (uint)blockThreads, 1, 1, (uint)sharedBytes, stream, pointers, null));
    }

    // ---- cuBLAS (column-major, as cuBLAS sees it; callers translate from row-major) ----

    public void SetMathMode(int mode) =>
        CudaStatus.Check(CudaLibrary.Cublas, "cublasSetMathMode", _cublas.cublasSetMathMode(_cublasHandle, mode));

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, DevicePointer a, int lda, DevicePointer b, int ldb, float beta, DevicePointer c, int ldc) =>
        CudaStatus.Check(CudaLibrary.Cublas, "cublasSgemm", _cublas.cublasSgemm(_cublasHandle, Op(transA), Op(transB), m, n, k, &alpha, a.Address, lda, b.Address, ldb, &beta, c.Address, ldc));

    public void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, DevicePointer a, int lda, DevicePointer b, int ldb, double beta, DevicePointer c, int ldc) =>
        CudaStatus.Check(CudaLibrary.Cublas, "cublasDgemm", _cublas.cublasDgemm(_cublasHandle, Op(transA), Op(transB), m, n, k, &alpha, a.Address, lda, b.Address, ldb, &beta, c.Address, ldc));

    /// <summary>C (lower triangle) = alpha·A·Aᵀ + beta·C with A [n, k] column-major.</summary>
    public void DsyrkLowerNoTrans(int n, int k, double alpha, DevicePointer a, int lda, double beta, DevicePointer c, int ldc) =>
        CudaStatus.Check(CudaLibrary.Cublas, "cublasDsyrk", _cublas.cublasDsyrk(_cublasHandle, CudaConstants.CublasFillModeLower, CudaConstants.CublasOpN, n, k, &alpha, a.Address, lda, &beta, c.Address, ldc));

    /// <summary>cublasGemmEx with float32 alpha/beta and output; inputs of <paramref name="inputType"/>.</summary>
    public void GemmEx(bool transA, bool transB, int m, int n, int k, float alpha, DevicePointer a, int inputType, int lda, DevicePointer b, int ldb, float beta, DevicePointer c, int ldc, int computeType) =>
        CudaStatus.Check(CudaLibrary.Cublas, "cublasGemmEx", _cublas.cublasGemmEx(_cublasHandle, Op(transA), Op(transB), m, n, k, &alpha,
            a.Address, inputType, lda, b.Address, inputType, ldb, &beta, c.Address, CudaConstants.CudaR32F, ldc, computeType, CudaConstants.CublasGemmDefault));

    private static int Op(bool transpose) => transpose ? CudaConstants.CublasOpT : CudaConstants.CublasOpN;

    // ---- level 1 and DGMM (double; results through host pointers, so those calls wait for the stream) ----

    /// <summary>‖x‖₂ of <paramref name="n"/> values with stride <paramref name="inc"/> (blocks until computed).</summary>
    public double Dnrm2(int n, DevicePointer x, int inc = 1)
    {
        double r;
        CudaStatus.Check(CudaLibrary.Cublas, "cublasDnrm2", _cublas.cublasDnrm2(_cublasHandle, n, x.Address, inc, &r));
        return r;
    }

    /// <summary>x·y (blocks until computed).</summary>
    public double Ddot(int n, DevicePointer x, int incX, DevicePointer y, int incY)
    {
        double r;
        CudaStatus.Check(CudaLibrary.Cublas, "cublasDdot", _cublas.cublasDdot(_cublasHandle, n, x.Address, incX, y.Address, incY, &r));
        return r;
    }

    public void Dscal(int n, double alpha, DevicePointer x, int inc = 1) =>
        CudaStatus.Check(CudaLibrary.Cublas, "cublasDscal", _cublas.cublasDscal(_cublasHandle, n, &alpha, x.Address, inc));

    /// <summary>y += alpha·x.</summary>
    public void Daxpy(int n, double alpha, DevicePointer x, int incX, DevicePointer y, int incY) =>
        CudaStatus.Check(CudaLibrary.Cublas, "cublasDaxpy", _cublas.cublasDaxpy(_cublasHandle, n, &alpha, x.Address, incX, y.Address, incY));

    /// <summary>C = A·diag(x) (column-major m x n), i.e. column j of A scaled by x[j].</summary>
    public void DdgmmRight(int m, int n, DevicePointer a, int lda, DevicePointer x, DevicePointer c, int ldc) =>
        CudaStatus.Check(CudaLibrary.Cublas, "cublasDdgmm",
            _cublas.cublasDdgmm(_cublasHandle, CudaConstants.CublasSideRight, m, n, a.Address, lda, x.Address, 1, c.Address, ldc));

    // ---- cuSOLVER ----

    /// <summary>Whether cuSOLVER loaded (the eigen route of the square root).</summary>
    public bool HasEigenSolver => _cusolver is not null;

    /// <summary>
    /// cusolverDnDsyevd on the lower triangle of the n x n column-major <paramref name="a"/>: eigenvalues
    /// ascending into <paramref name="w"/>; with <paramref name="vectors"/> the orthonormal eigenvectors
    /// overwrite <paramref name="a"/> (columns). Throws a <see cref="CudaException"/> when devInfo ≠ 0.
    /// </summary>
    public void Dsyevd(bool vectors, int n, DevicePointer a, int lda, DevicePointer w)
    {
        var api = _cusolver ?? throw new InvalidOperationException("cuSOLVER is not loaded");
        if (_cusolverHandle == 0)
        {
            nint h;
            CudaStatus.Check(CudaLibrary.Cusolver, "cusolverDnCreate", api.cusolverDnCreate(&h));
            _cusolverHandle = h;
            CudaStatus.Check(CudaLibrary.Cusolver, "cusolverDnSetStream", api.cusolverDnSetStream(_cusolverHandle, _stream));
        }
        int jobz = vectors ? CudaConstants.CusolverEigModeVector : CudaConstants.CusolverEigModeNoVector;
        int lwork;
        CudaStatus.Check(CudaLibrary.Cusolver, "cusolverDnDsyevd_bufferSize",
            api.cusolverDnDsyevdBufferSize(_cusolverHandle, jobz, CudaConstants.CublasFillModeLower, n, a.Address, lda, w.Address, &lwork));
        using var work = Allocate<double>(Math.Max(lwork, 1));
        using var info = Allocate<int>(1);
        CudaStatus.Check(CudaLibrary.Cusolver, "cusolverDnDsyevd",
            api.cusolverDnDsyevd(_cusolverHandle, jobz, CudaConstants.CublasFillModeLower, n, a.Address, lda, w.Address, work.Start.Address, Math.Max(lwork, 1), info.Start.Address));
        Span<int> devInfo = stackalloc int[1];
        Download(info.Start, devInfo);
        if (devInfo[0] != 0)
            throw new CudaException(CudaLibrary.Cusolver, "cusolverDnDsyevd", devInfo[0],
                devInfo[0] > 0 ? $"devInfo = {devInfo[0]}: {devInfo[0]} off-diagonal elements did not converge" : $"devInfo = {devInfo[0]}: parameter {-devInfo[0]} is wrong");
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (_context != 0) _driver.cuCtxSetCurrent(_context);
        // Nothing may be freed while queued work can still use it.
        if (_sideStream != 0) _driver.cuStreamSynchronize(_sideStream);
        if (_stream != 0) _driver.cuStreamSynchronize(_stream);
        ReleasePendingFrees();
        FreeStaging();
        if (_cusolverHandle != 0) _cusolver!.cusolverDnDestroy(_cusolverHandle);
        _cusolverHandle = 0;
        if (_cublasHandle != 0) _cublas.cublasDestroy(_cublasHandle);
        if (_sideStream != 0) _driver.cuStreamDestroy(_sideStream);
        if (_stream != 0) _driver.cuStreamDestroy(_stream);
        if (_context != 0) _driver.cuDevicePrimaryCtxRelease(Device.Ordinal);
        _cublasHandle = 0;
        _stream = 0;
        _sideStream = 0;
        _context = 0;
        _disposed = true;
    }
}
