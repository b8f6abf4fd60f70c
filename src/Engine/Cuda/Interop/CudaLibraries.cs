namespace GenMetrics.Cuda.Interop;

/// <summary>
/// The CUDA driver, NVRTC, cuBLAS and (optionally) cuSOLVER, loaded once on first use. The driver is loaded
/// first and asked which CUDA version it supports (cuDriverGetVersion, which needs no cuInit); only the
/// toolkit libraries that driver can run are then tried, newest first. CUDA 13 libraries need a driver for
/// CUDA 13.0 or newer (R580+); CUDA 12.x libraries run on any 12.x-or-newer driver (minor-version
/// compatibility). With no CUDA library on the machine nothing is loaded until someone asks for the CUDA
/// backend, and then only the probing happens.
/// </summary>
internal sealed class CudaLibraries
{
    /// <summary>CUDA toolkit major versions we have bindings for, newest first.</summary>
    public static readonly IReadOnlyList<int> ToolkitMajors = [13, 12];

    public static readonly IReadOnlyList<string> DriverNames = NativeLibraryProbe.CandidateNames("cuda", ["1"]);

    /// <summary>Oldest driver accepted: CUDA 12.0 (cuDriverGetVersion encodes 1000·major + 10·minor).</summary>
    public const int MinimumDriverVersion = 12000;

    /// <summary>The NVRTC soname version of a toolkit (libnvrtc.so.13 for CUDA 13).</summary>
    public static string NvrtcVersionOf(int toolkit) => toolkit.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The cuBLAS soname version of a toolkit (libcublas.so.12 for CUDA 12).</summary>
    public static string CublasVersionOf(int toolkit) => toolkit.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The cuSOLVER soname version of a toolkit: CUDA 12 ships libcusolver.so.11, CUDA 13 libcusolver.so.12.</summary>
    public static string CusolverVersionOf(int toolkit) => (toolkit - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static readonly Lazy<CudaLibraries> Instance = new(() => new CudaLibraries(null), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Which toolkits' libraries a driver supporting CUDA <paramref name="driverVersion"/> can use, newest first,
    /// and one sentence saying so (for `genmetrics devices`). Null version: the driver is absent or did not
    /// answer, so every toolkit is tried.
    /// </summary>
    public static (IReadOnlyList<int> Toolkits, string Reason) ChooseToolkits(int? driverVersion)
    {
        if (driverVersion is not int v)
            return (ToolkitMajors, "driver version unknown: trying every toolkit's libraries, newest first");
        var usable = ToolkitMajors.Where(t => v >= t * 1000).ToList();
        var refused = ToolkitMajors.Where(t => v < t * 1000).ToList();
        string driver = $"the driver supports CUDA {FormatVersion(v)}";
        if (usable.Count == 0)
            return (usable, $"{driver}: no toolkit this build knows ({string.Join(", ", ToolkitMajors.Select(t => $"CUDA {t}"))}) runs on it; CUDA {FormatVersion(MinimumDriverVersion)} or newer is needed");
        string chosen = $"{driver}: using CUDA {string.Join(" or ", usable)} libraries (newest first)";
        return refused.Count == 0
            ? (usable, chosen)
            : (usable, $"{chosen}; CUDA {string.Join(", ", refused)} libraries skipped: they need a driver for CUDA {refused.Min()}.0 or newer{(refused.Contains(13) ? " (R580+)" : "")}");
    }

    /// <summary>
    /// Loads the libraries; a test may substitute the loader (tryLoad: then no function pointers are resolved)
    /// and the driver's version (driverVersionOverride, instead of cuDriverGetVersion).
    /// </summary>
    internal CudaLibraries(Func<string, nint>? tryLoad, int? driverVersionOverride = null)
    {
        DriverProbe = NativeLibraryProbe.Load("CUDA driver", DriverNames, tryLoad);
        int? driverVersion = driverVersionOverride;
        try
        {
            if (DriverProbe.IsLoaded && tryLoad is null)
            {
                Driver = new DriverApi(DriverProbe);
                CudaStatus.DriverDescriber = Driver.Describe;
                driverVersion ??= Driver.Version();
            }
        }
        catch (EntryPointNotFoundException e)
        {
            SymbolProblem = e.Message;
        }
        DriverVersion = driverVersion;
        var (toolkits, reason) = ChooseToolkits(driverVersion);
        SelectionReason = reason;

        const string notThisDriver = "not supported by this driver";
        NvrtcProbe = LoadForToolkits("NVRTC", "nvrtc", NvrtcVersionOf, toolkits, notThisDriver, tryLoad, out _);
        // cuBLAS decides the toolkit of cuSOLVER: cuSOLVER links against the cuBLAS of its own toolkit.
        CublasProbe = LoadForToolkits("cuBLAS", "cublas", CublasVersionOf, toolkits, notThisDriver, tryLoad, out int? cublasToolkit);
        CublasToolkit = cublasToolkit;
        var solverToolkits = cublasToolkit is int ct ? (IReadOnlyList<int>)[ct] : toolkits;
        CusolverProbe = LoadForToolkits("cuSOLVER", "cusolver", CusolverVersionOf, solverToolkits,
            cublasToolkit is int loaded ? $"cuBLAS is CUDA {loaded}'s; cuSOLVER must come from the same toolkit" : notThisDriver, tryLoad, out _);
        if (tryLoad is not null) return;
        try
        {
            if (NvrtcProbe.IsLoaded)
            {
                Nvrtc = new NvrtcApi(NvrtcProbe);
                CudaStatus.NvrtcDescriber = Nvrtc.Describe;
            }
            if (CublasProbe.IsLoaded)
            {
                Cublas = new CublasApi(CublasProbe);
                CudaStatus.CublasDescriber = Cublas.Describe;
            }
        }
        catch (EntryPointNotFoundException e)
        {
            SymbolProblem = e.Message;
        }
        try
        {
            if (CusolverProbe.IsLoaded) Cusolver = new CusolverApi(CusolverProbe);
        }
        catch (EntryPointNotFoundException e)
        {
            // cuSOLVER is optional (the eigen route of the square root); its absence is reported, not fatal.
            CusolverProblem = e.Message;
        }
    }

    /// <summary>
    /// Tries the library of each toolkit in <paramref name="toolkits"/>; the other toolkits' names are listed
    /// as skipped, so that the attempts say what was not tried and why.
    /// </summary>
    private static NativeLibraryProbe LoadForToolkits(string purpose, string baseName, Func<int, string> sonameVersion,
        IReadOnlyList<int> toolkits, string skipReason, Func<string, nint>? tryLoad, out int? loadedToolkit)
    {
        var skipped = new List<string>();
        var names = new List<string>();
        var toolkitOfName = new Dictionary<string, int>();
        foreach (int t in ToolkitMajors)
        {
            string name = NativeLibraryProbe.CandidateNames(baseName, [sonameVersion(t)])[0];
            if (toolkits.Contains(t))
            {
                names.Add(name);
                toolkitOfName[name] = t;
            }
            else skipped.Add($"{name}: skipped (CUDA {t} library, {skipReason})");
        }
        var probe = NativeLibraryProbe.Load(purpose, names, tryLoad, skipped);
        loadedToolkit = probe.LoadedName is { } loaded && toolkitOfName.TryGetValue(loaded, out int tk) ? tk : null;
        return probe;
    }

    public static CudaLibraries Get() => Instance.Value;

    public NativeLibraryProbe DriverProbe { get; }
    public NativeLibraryProbe NvrtcProbe { get; }
    public NativeLibraryProbe CublasProbe { get; }
    public NativeLibraryProbe CusolverProbe { get; }
    public DriverApi? Driver { get; }
    public NvrtcApi? Nvrtc { get; }
    public CublasApi? Cublas { get; }
    public CusolverApi? Cusolver { get; }

    /// <summary>What cuDriverGetVersion said (1000·major + 10·minor), or null when the driver is absent.</summary>
    public int? DriverVersion { get; }

    /// <summary>The toolkit major whose cuBLAS was loaded.</summary>
    public int? CublasToolkit { get; }

    /// <summary>Why these libraries were tried (the driver's version and what it allows).</summary>
    public string SelectionReason { get; }

    /// <summary>A library loaded but lacked a function we need (too old).</summary>
    public string? SymbolProblem { get; }

    /// <summary>cuSOLVER loaded but lacked a function (the eigen route is then off).</summary>
    public string? CusolverProblem { get; }

    /// <summary>Null when driver, NVRTC and cuBLAS loaded with every function; otherwise what is missing.</summary>
    public string? MissingReason
    {
        get
        {
            var problems = new List<string>();
            foreach (var p in new[] { DriverProbe, NvrtcProbe, CublasProbe })
                if (!p.IsLoaded) problems.Add(p.FailureMessage);
            if (SymbolProblem is not null) problems.Add(SymbolProblem);
            return problems.Count == 0 ? null : string.Join("; ", problems);
        }
    }

    public DriverApi RequireDriver() => Driver ?? throw new InvalidOperationException(DriverProbe.FailureMessage);
    public NvrtcApi RequireNvrtc() => Nvrtc ?? throw new InvalidOperationException(NvrtcProbe.FailureMessage);
    public CublasApi RequireCublas() => Cublas ?? throw new InvalidOperationException(CublasProbe.FailureMessage);

    /// <summary>"12.4" from 12040.</summary>
    public static string FormatVersion(int encoded) => $"{encoded / 1000}.{encoded % 1000 / 10}";
}
