namespace GenMetrics.Cuda.Interop;

/// <summary>Which native library a failed status came from.</summary>
public enum CudaLibrary
{
    Driver,
    Nvrtc,
    Cublas,
    Cusolver,
}

/// <summary>
/// A CUDA driver, NVRTC or cuBLAS call returned an error status. The message names the call, the numeric
/// code, and the library's own name/description of the code.
/// </summary>
public sealed class CudaException : Exception
{
    public CudaException(CudaLibrary library, string call, int code, string description, string? detail = null)
        : base(FormatMessage(library, call, code, description, detail))
    {
        Library = library;
        Call = call;
        Code = code;
        Description = description;
    }

    public CudaLibrary Library { get; }
    public string Call { get; }
    public int Code { get; }
    public string Description { get; }

    /// <summary>True for CUDA_ERROR_OUT_OF_MEMORY and CUBLAS_STATUS_ALLOC_FAILED: the caller may retry smaller.</summary>
    public bool IsOutOfMemory =>
        (Library == CudaLibrary.Driver && Code == CudaStatus.DriverOutOfMemory) ||
        (Library == CudaLibrary.Cublas && Code == CudaStatus.CublasAllocFailed) ||
        (Library == CudaLibrary.Cusolver && Code == CudaStatus.CusolverAllocFailed);

    internal static string FormatMessage(CudaLibrary library, string call, int code, string description, string? detail)
    {
        string text = $"{call} failed with {LibraryName(library)} status {code} ({description})";
        return detail is null ? text : $"{text}\n{detail}";
    }

    private static string LibraryName(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => "CUDA driver",
        CudaLibrary.Nvrtc => "NVRTC",
        CudaLibrary.Cusolver => "cuSOLVER",
        _ => "cuBLAS",
    };
}
