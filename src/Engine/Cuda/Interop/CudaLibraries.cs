namespace GenMetrics.Cuda.Interop;

/// <summary>
/// The CUDA driver, NVRTC and cuBLAS, loaded once on first use. With no CUDA library on the machine
/// nothing is loaded until someone asks for the CUDA backend, and then only the probing happens.
/// </summary>
internal sealed class CudaLibraries
{
    // Newest first: a CUDA 13 install is preferred when both are present. The driver keeps one soname.
    public static readonly IReadOnlyList<string> DriverNames = NativeLibraryProbe.CandidateNames("cuda", ["1"]);
    public static readonly IReadOnlyList<string> NvrtcNames = NativeLibraryProbe.CandidateNames("nvrtc", ["13", "12"]);
    public static readonly IReadOnlyList<string> CublasNames = NativeLibraryProbe.CandidateNames("cublas", ["13", "12"]);

    /// <summary>Oldest driver accepted: CUDA 12.0 (cuDriverGetVersion encodes 1000·major + 10·minor).</summary>
    public const int MinimumDriverVersion = 12000;

    private static readonly Lazy<CudaLibraries> Instance = new(() => new CudaLibraries(), LazyThreadSafetyMode.ExecutionAndPublication);

    private CudaLibraries()
    {
        DriverProbe = NativeLibraryProbe.Load("CUDA driver", DriverNames);
        NvrtcProbe = NativeLibraryProbe.Load("NVRTC", NvrtcNames);
        CublasProbe = NativeLibraryProbe.Load("cuBLAS", CublasNames);
        try
        {
            if (DriverProbe.IsLoaded)
            {
                Driver = new DriverApi(DriverProbe);
                CudaStatus.DriverDescriber = Driver.Describe;
            }
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
    }

    public static CudaLibraries Get() => Instance.Value;

    public NativeLibraryProbe DriverProbe { get; }
    public NativeLibraryProbe NvrtcProbe { get; }
    public NativeLibraryProbe CublasProbe { get; }
    public DriverApi? Driver { get; }
    public NvrtcApi? Nvrtc { get; }
    public CublasApi? Cublas { get; }

    /// <summary>A library loaded but lacked a function we need (too old).</summary>
    public string? SymbolProblem { get; }

    /// <summary>Null when all three libraries loaded with every function; otherwise what is missing.</summary>
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
