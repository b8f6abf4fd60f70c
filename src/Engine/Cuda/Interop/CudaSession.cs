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
/// One device's primary context, a non-blocking stream and a cuBLAS handle bound to it. All work goes
/// through this stream. Every method makes the context current on the calling thread first, so the
/// backend may be called from any thread (one at a time).
/// </summary>
internal sealed unsafe class CudaSession : IDisposable
{
    private readonly DriverApi _driver;
    private readonly CublasApi _cublas;
    private nint _context;
    private nint _stream;
    private nint _cublasHandle;
    private bool _disposed;

    private CudaSession(CudaLibraries libs, CudaDeviceInfo device)
    {
        _driver = libs.RequireDriver();
        _cublas = libs.RequireCublas();
        Device = device;
    }

    public CudaDeviceInfo Device { get; }
    public int DriverVersion { get; private set; }
    public int CublasVersion { get; private set; }

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
        CudaStatus.Check(CudaLibrary.Driver, $"cuMemAlloc({bytes} bytes)", _driver.cuMemAlloc(&address, bytes));
        return new DeviceBuffer<T>(this, address, count);
    }

    internal void Free(ulong address)
    {
        if (_disposed) return;
        _driver.cuCtxSetCurrent(_context);
        _driver.cuMemFree(address);
    }

    public (long Free, long Total) MemoryInfo()
    {
        nuint free, total;
        CudaStatus.Check(CudaLibrary.Driver, "cuMemGetInfo", _driver.cuMemGetInfo(&free, &total));
        return ((long)free, (long)total);
    }

    /// <summary>
    /// Copies host values to the device. From pageable memory the driver stages the data before returning,
    /// so the span may be reused as soon as this returns.
    /// </summary>
    public void Upload<T>(ReadOnlySpan<T> source, DevicePointer destination) where T : unmanaged
    {
        if (source.IsEmpty) return;
        fixed (T* p = source)
            CudaStatus.Check(CudaLibrary.Driver, "cuMemcpyHtoDAsync",
                _driver.cuMemcpyHtoDAsync(destination.Address, p, (nuint)(source.Length * sizeof(T)), _stream));
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

    public void Synchronize() =>
        CudaStatus.Check(CudaLibrary.Driver, "cuStreamSynchronize", _driver.cuStreamSynchronize(_stream));

    // ---- events and profiling ----

    public CudaEvent CreateEvent()
    {
        nint e;
        CudaStatus.Check(CudaLibrary.Driver, "cuEventCreate", _driver.cuEventCreate(&e, CudaConstants.EventDefault));
        return new CudaEvent(_driver, e);
    }

    public void Record(CudaEvent e) =>
        CudaStatus.Check(CudaLibrary.Driver, "cuEventRecord", _driver.cuEventRecord(e.Handle, _stream));

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

    public void Launch(KernelFunction function, (int X, int Y) grid, int blockThreads, int sharedBytes, KernelArguments args)
    {
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
            _driver.cuLaunchKernel(function.Handle, (uint)grid.X, (uint)grid.Y, 1, (uint)blockThreads, 1, 1, (uint)sharedBytes, _stream, pointers, null));
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

    public void Dispose()
    {
        if (_disposed) return;
        if (_context != 0) _driver.cuCtxSetCurrent(_context);
        if (_cublasHandle != 0) _cublas.cublasDestroy(_cublasHandle);
        if (_stream != 0) _driver.cuStreamDestroy(_stream);
        if (_context != 0) _driver.cuDevicePrimaryCtxRelease(Device.Ordinal);
        _cublasHandle = 0;
        _stream = 0;
        _context = 0;
        _disposed = true;
    }
}
