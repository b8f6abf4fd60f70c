namespace GenMetrics.Cuda.Interop;

/// <summary>
/// The one status checker for every driver, NVRTC and cuBLAS call. Error text comes from the library
/// itself (cuGetErrorName/cuGetErrorString, nvrtcGetErrorString, cublasGetStatusName) when loaded, and
/// from the built-in tables below otherwise, so that a message never says only a number.
/// </summary>
internal static class CudaStatus
{
    // CUresult values (cuda.h).
    public const int DriverSuccess = 0;
    public const int DriverOutOfMemory = 2;
    public const int DriverNoDevice = 100;
    public const int DriverStubLibrary = 34;
    public const int DriverSystemDriverMismatch = 803;
    // cublasStatus_t (cublas_api.h).
    public const int CublasSuccess = 0;
    public const int CublasAllocFailed = 3;
    // cusolverStatus_t (cusolver_common.h).
    public const int CusolverAllocFailed = 2;

    /// <summary>Library-supplied descriptions; set by the loader once the function pointers exist.</summary>
    internal static Func<int, string?>? DriverDescriber;
    internal static Func<int, string?>? NvrtcDescriber;
    internal static Func<int, string?>? CublasDescriber;

    public static void Check(CudaLibrary library, string call, int code, string? detail = null)
    {
        if (code == 0) return;
        throw new CudaException(library, call, code, Describe(library, code), detail);
    }

    public static string Describe(CudaLibrary library, int code)
    {
        string? fromLibrary = null;
        try
        {
            fromLibrary = library switch
            {
                CudaLibrary.Driver => DriverDescriber?.Invoke(code),
                CudaLibrary.Nvrtc => NvrtcDescriber?.Invoke(code),
                CudaLibrary.Cusolver => null, // cuSOLVER has no status-name function
                _ => CublasDescriber?.Invoke(code),
            };
        }
        catch (Exception e) when (e is EntryPointNotFoundException or AccessViolationException)
        {
            fromLibrary = null;
        }
        return fromLibrary ?? BuiltInName(library, code);
    }

    public static string BuiltInName(CudaLibrary library, int code) => library switch
    {
        CudaLibrary.Driver => code switch
        {
            0 => "CUDA_SUCCESS",
            1 => "CUDA_ERROR_INVALID_VALUE",
            2 => "CUDA_ERROR_OUT_OF_MEMORY",
            3 => "CUDA_ERROR_NOT_INITIALIZED",
            4 => "CUDA_ERROR_DEINITIALIZED",
            34 => "CUDA_ERROR_STUB_LIBRARY",
            100 => "CUDA_ERROR_NO_DEVICE",
            101 => "CUDA_ERROR_INVALID_DEVICE",
            200 => "CUDA_ERROR_INVALID_IMAGE",
            201 => "CUDA_ERROR_INVALID_CONTEXT",
            209 => "CUDA_ERROR_NO_BINARY_FOR_GPU",
            218 => "CUDA_ERROR_INVALID_PTX",
            222 => "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
            300 => "CUDA_ERROR_INVALID_SOURCE",
            400 => "CUDA_ERROR_INVALID_HANDLE",
            500 => "CUDA_ERROR_NOT_FOUND",
            600 => "CUDA_ERROR_NOT_READY",
            700 => "CUDA_ERROR_ILLEGAL_ADDRESS",
            701 => "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
            702 => "CUDA_ERROR_LAUNCH_TIMEOUT",
            719 => "CUDA_ERROR_LAUNCH_FAILED",
            803 => "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
            999 => "CUDA_ERROR_UNKNOWN",
            _ => "unknown CUresult",
        },
        CudaLibrary.Nvrtc => code switch
        {
            0 => "NVRTC_SUCCESS",
            1 => "NVRTC_ERROR_OUT_OF_MEMORY",
            2 => "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
            3 => "NVRTC_ERROR_INVALID_INPUT",
            4 => "NVRTC_ERROR_INVALID_PROGRAM",
            5 => "NVRTC_ERROR_INVALID_OPTION",
            6 => "NVRTC_ERROR_COMPILATION",
            7 => "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE",
            11 => "NVRTC_ERROR_INTERNAL_ERROR",
            _ => "unknown nvrtcResult",
        },
        CudaLibrary.Cusolver => code switch
        {
            0 => "CUSOLVER_STATUS_SUCCESS",
            1 => "CUSOLVER_STATUS_NOT_INITIALIZED",
            2 => "CUSOLVER_STATUS_ALLOC_FAILED",
            3 => "CUSOLVER_STATUS_INVALID_VALUE",
            4 => "CUSOLVER_STATUS_ARCH_MISMATCH",
            5 => "CUSOLVER_STATUS_MAPPING_ERROR",
            6 => "CUSOLVER_STATUS_EXECUTION_FAILED",
            7 => "CUSOLVER_STATUS_INTERNAL_ERROR",
            8 => "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED",
            9 => "CUSOLVER_STATUS_NOT_SUPPORTED",
            _ => "unknown cusolverStatus_t",
        },
        _ => code switch
        {
            0 => "CUBLAS_STATUS_SUCCESS",
            1 => "CUBLAS_STATUS_NOT_INITIALIZED",
            3 => "CUBLAS_STATUS_ALLOC_FAILED",
            7 => "CUBLAS_STATUS_INVALID_VALUE",
            8 => "CUBLAS_STATUS_ARCH_MISMATCH",
            11 => "CUBLAS_STATUS_MAPPING_ERROR",
            13 => "CUBLAS_STATUS_EXECUTION_FAILED",
            14 => "CUBLAS_STATUS_INTERNAL_ERROR",
            15 => "CUBLAS_STATUS_NOT_SUPPORTED",
            16 => "CUBLAS_STATUS_LICENSE_ERROR",
            _ => "unknown cublasStatus_t",
        },
    };
}
