using System.Runtime.InteropServices;

namespace GenMetrics.Cuda.Interop;

// Function pointers resolved with NativeLibrary.GetExport rather than [LibraryImport]: the library names
// differ between CUDA 12 and 13 (and per OS), and a DllImportResolver is one per assembly, which other parts
// of the engine may want. Nothing here is touched until CudaLibraries.Load() runs.
// Signatures follow cuda.h, nvrtc.h and cublas_api.h; handles are opaque pointers (nint), device pointers
// are CUdeviceptr (unsigned long long on 64-bit), size_t is nuint.

internal sealed unsafe class DriverApi
{
    public readonly delegate* unmanaged<uint, int> cuInit;
    public readonly delegate* unmanaged<int*, int> cuDriverGetVersion;
    public readonly delegate* unmanaged<int*, int> cuDeviceGetCount;
    public readonly delegate* unmanaged<int*, int, int> cuDeviceGet;
    public readonly delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    public readonly delegate* unmanaged<nuint*, int, int> cuDeviceTotalMem;
    public readonly delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
    public readonly delegate* unmanaged<nint*, int, int> cuDevicePrimaryCtxRetain;
    public readonly delegate* unmanaged<int, int> cuDevicePrimaryCtxRelease;
    public readonly delegate* unmanaged<nint, int> cuCtxSetCurrent;
    public readonly delegate* unmanaged<ulong*, nuint, int> cuMemAlloc;
    public readonly delegate* unmanaged<ulong, int> cuMemFree;
    public readonly delegate* unmanaged<nuint*, nuint*, int> cuMemGetInfo;
    public readonly delegate* unmanaged<ulong, void*, nuint, nint, int> cuMemcpyHtoDAsync;
    public readonly delegate* unmanaged<void*, ulong, nuint, nint, int> cuMemcpyDtoHAsync;
    public readonly delegate* unmanaged<ulong, uint, nuint, nint, int> cuMemsetD32Async;
    public readonly delegate* unmanaged<ulong, ulong, nuint, nint, int> cuMemcpyDtoDAsync;
    public readonly delegate* unmanaged<nint*, uint, int> cuStreamCreate;
    public readonly delegate* unmanaged<nint, int> cuStreamDestroy;
    public readonly delegate* unmanaged<nint, int> cuStreamSynchronize;
    public readonly delegate* unmanaged<nint, nint, uint, int> cuStreamWaitEvent;
    public readonly delegate* unmanaged<nint*, uint, int> cuEventCreate;
    public readonly delegate* unmanaged<nint, int> cuEventDestroy;
    public readonly delegate* unmanaged<nint, nint, int> cuEventRecord;
    public readonly delegate* unmanaged<nint, int> cuEventSynchronize;
    public readonly delegate* unmanaged<float*, nint, nint, int> cuEventElapsedTime;
    public readonly delegate* unmanaged<nint*, void*, uint, int*, void**, int> cuModuleLoadDataEx;
    public readonly delegate* unmanaged<nint, int> cuModuleUnload;
    public readonly delegate* unmanaged<nint*, nint, byte*, int> cuModuleGetFunction;
    public readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> cuLaunchKernel;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorName;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorString;
    public readonly delegate* unmanaged<int> cuProfilerStart;
    public readonly delegate* unmanaged<int> cuProfilerStop;
    public readonly delegate* unmanaged<void**, nuint, uint, int> cuMemHostAlloc;
    public readonly delegate* unmanaged<void*, int> cuMemFreeHost;

    public DriverApi(NativeLibraryProbe lib)
    {
        cuInit = (delegate* unmanaged<uint, int>)lib.Export("cuInit");
        cuDriverGetVersion = (delegate* unmanaged<int*, int>)lib.Export("cuDriverGetVersion");
        cuDeviceGetCount = (delegate* unmanaged<int*, int>)lib.Export("cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged<int*, int, int>)lib.Export("cuDeviceGet");
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)lib.Export("cuDeviceGetName");
        cuDeviceTotalMem = (delegate* unmanaged<nuint*, int, int>)lib.Export("cuDeviceTotalMem_v2");
        cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)lib.Export("cuDeviceGetAttribute");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)lib.Export("cuDevicePrimaryCtxRetain");
        cuDevicePrimaryCtxRelease = (delegate* unmanaged<int, int>)lib.Export("cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
        cuCtxSetCurrent = (delegate* unmanaged<nint, int>)lib.Export("cuCtxSetCurrent");
        cuMemAlloc = (delegate* unmanaged<ulong*, nuint, int>)lib.Export("cuMemAlloc_v2");
        cuMemFree = (delegate* unmanaged<ulong, int>)lib.Export("cuMemFree_v2");
        cuMemGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)lib.Export("cuMemGetInfo_v2");
        cuMemcpyHtoDAsync = (delegate* unmanaged<ulong, void*, nuint, nint, int>)lib.Export("cuMemcpyHtoDAsync_v2");
        cuMemcpyDtoHAsync = (delegate* unmanaged<void*, ulong, nuint, nint, int>)lib.Export("cuMemcpyDtoHAsync_v2");
        cuMemsetD32Async = (delegate* unmanaged<ulong, uint, nuint, nint, int>)lib.Export("cuMemsetD32Async");
        cuMemcpyDtoDAsync = (delegate* unmanaged<ulong, ulong, nuint, nint, int>)lib.Export("cuMemcpyDtoDAsync_v2");
        cuStreamCreate = (delegate* unmanaged<nint*, uint, int>)lib.Export("cuStreamCreate");
        cuStreamDestroy = (delegate* unmanaged<nint, int>)lib.Export("cuStreamDestroy_v2", "cuStreamDestroy");
        cuStreamSynchronize = (delegate* unmanaged<nint, int>)lib.Export("cuStreamSynchronize");
        cuStreamWaitEvent = (delegate* unmanaged<nint, nint, uint, int>)lib.Export("cuStreamWaitEvent");
        cuEventCreate = (delegate* unmanaged<nint*, uint, int>)lib.Export("cuEventCreate");
        cuEventDestroy = (delegate* unmanaged<nint, int>)lib.Export("cuEventDestroy_v2", "cuEventDestroy");
        cuEventRecord = (delegate* unmanaged<nint, nint, int>)lib.Export("cuEventRecord");
        cuEventSynchronize = (delegate* unmanaged<nint, int>)lib.Export("cuEventSynchronize");
        // CUDA 12.8 added cuEventElapsedTime_v2 (same signature); CUDA 13 headers map the plain name to it.
        cuEventElapsedTime = (delegate* unmanaged<float*, nint, nint, int>)lib.Export("cuEventElapsedTime_v2", "cuEventElapsedTime");
        cuModuleLoadDataEx = (delegate* unmanaged<nint*, void*, uint, int*, void**, int>)lib.Export("cuModuleLoadDataEx");
        cuModuleUnload = (delegate* unmanaged<nint, int>)lib.Export("cuModuleUnload");
        cuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)lib.Export("cuModuleGetFunction");
        cuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)lib.Export("cuLaunchKernel");
        cuGetErrorName = (delegate* unmanaged<int, byte**, int>)lib.Export("cuGetErrorName");
        cuGetErrorString = (delegate* unmanaged<int, byte**, int>)lib.Export("cuGetErrorString");
        cuProfilerStart = (delegate* unmanaged<int>)lib.OptionalExport("cuProfilerStart");
        cuProfilerStop = (delegate* unmanaged<int>)lib.OptionalExport("cuProfilerStop");
        cuMemHostAlloc = (delegate* unmanaged<void**, nuint, uint, int>)lib.Export("cuMemHostAlloc");
        cuMemFreeHost = (delegate* unmanaged<void*, int>)lib.Export("cuMemFreeHost");
    }

    /// <summary>cuDriverGetVersion (no cuInit needed): 1000·major + 10·minor of the newest CUDA the driver supports.</summary>
    public int Version()
    {
        int v;
        CudaStatus.Check(CudaLibrary.Driver, "cuDriverGetVersion", cuDriverGetVersion(&v));
        return v;
    }

    public string? Describe(int code)
    {
        byte* name = null, text = null;
        if (cuGetErrorName(code, &name) != 0 || name is null) return null;
        string result = Marshal.PtrToStringUTF8((nint)name) ?? "";
        if (cuGetErrorString(code, &text) == 0 && text is not null) result += ": " + Marshal.PtrToStringUTF8((nint)text);
        return result;
    }
}

internal sealed unsafe class NvrtcApi
{
    public readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> nvrtcCreateProgram;
    public readonly delegate* unmanaged<nint*, int> nvrtcDestroyProgram;
    public readonly delegate* unmanaged<nint, int, byte**, int> nvrtcCompileProgram;
    public readonly delegate* unmanaged<nint, nuint*, int> nvrtcGetProgramLogSize;
    public readonly delegate* unmanaged<nint, byte*, int> nvrtcGetProgramLog;
    public readonly delegate* unmanaged<nint, nuint*, int> nvrtcGetPTXSize;
    public readonly delegate* unmanaged<nint, byte*, int> nvrtcGetPTX;
    public readonly delegate* unmanaged<nint, nuint*, int> nvrtcGetCUBINSize;
    public readonly delegate* unmanaged<nint, byte*, int> nvrtcGetCUBIN;
    public readonly delegate* unmanaged<int*, int*, int> nvrtcVersion;
    public readonly delegate* unmanaged<int, byte*> nvrtcGetErrorString;

    public NvrtcApi(NativeLibraryProbe lib)
    {
        nvrtcCreateProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)lib.Export("nvrtcCreateProgram");
        nvrtcDestroyProgram = (delegate* unmanaged<nint*, int>)lib.Export("nvrtcDestroyProgram");
        nvrtcCompileProgram = (delegate* unmanaged<nint, int, byte**, int>)lib.Export("nvrtcCompileProgram");
        nvrtcGetProgramLogSize = (delegate* unmanaged<nint, nuint*, int>)lib.Export("nvrtcGetProgramLogSize");
        nvrtcGetProgramLog = (delegate* unmanaged<nint, byte*, int>)lib.Export("nvrtcGetProgramLog");
        nvrtcGetPTXSize = (delegate* unmanaged<nint, nuint*, int>)lib.Export("nvrtcGetPTXSize");
        nvrtcGetPTX = (delegate* unmanaged<nint, byte*, int>)lib.Export("nvrtcGetPTX");
        nvrtcGetCUBINSize = (delegate* unmanaged<nint, nuint*, int>)lib.Export("nvrtcGetCUBINSize");
        nvrtcGetCUBIN = (delegate* unmanaged<nint, byte*, int>)lib.Export("nvrtcGetCUBIN");
        nvrtcVersion = (delegate* unmanaged<int*, int*, int>)lib.Export("nvrtcVersion");
        nvrtcGetErrorString = (delegate* unmanaged<int, byte*>)lib.Export("nvrtcGetErrorString");
    }

    public string? Describe(int code)
    {
        byte* s = nvrtcGetErrorString(code);
        return s is null ? null : Marshal.PtrToStringUTF8((nint)s);
    }
}

internal sealed unsafe class CublasApi
{
    public readonly delegate* unmanaged<nint*, int> cublasCreate;
    public readonly delegate* unmanaged<nint, int> cublasDestroy;
    public readonly delegate* unmanaged<nint, int*, int> cublasGetVersion;
    public readonly delegate* unmanaged<nint, nint, int> cublasSetStream;
    public readonly delegate* unmanaged<nint, int, int> cublasSetMathMode;
    public readonly delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int> cublasSgemm;
    public readonly delegate* unmanaged<nint, int, int, int, int, int, double*, ulong, int, ulong, int, double*, ulong, int, int> cublasDgemm;
    public readonly delegate* unmanaged<nint, int, int, int, int, double*, ulong, int, double*, ulong, int, int> cublasDsyrk;
    public readonly delegate* unmanaged<nint, int, int, int, int, int, void*, ulong, int, int, ulong, int, int, void*, ulong, int, int, int, int, int> cublasGemmEx;
    public readonly delegate* unmanaged<int, byte*> cublasGetStatusName;
    public readonly delegate* unmanaged<nint, int, ulong, int, double*, int> cublasDnrm2;
    public readonly delegate* unmanaged<nint, int, ulong, int, ulong, int, double*, int> cublasDdot;
    public readonly delegate* unmanaged<nint, int, double*, ulong, int, int> cublasDscal;
    public readonly delegate* unmanaged<nint, int, double*, ulong, int, ulong, int, int> cublasDaxpy;
    public readonly delegate* unmanaged<nint, int, int, int, ulong, int, ulong, int, ulong, int, int> cublasDdgmm;

    public CublasApi(NativeLibraryProbe lib)
    {
        cublasCreate = (delegate* unmanaged<nint*, int>)lib.Export("cublasCreate_v2");
        cublasDestroy = (delegate* unmanaged<nint, int>)lib.Export("cublasDestroy_v2");
        cublasGetVersion = (delegate* unmanaged<nint, int*, int>)lib.Export("cublasGetVersion_v2");
        cublasSetStream = (delegate* unmanaged<nint, nint, int>)lib.Export("cublasSetStream_v2");
        cublasSetMathMode = (delegate* unmanaged<nint, int, int>)lib.Export("cublasSetMathMode");
        cublasSgemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int>)lib.Export("cublasSgemm_v2");
        cublasDgemm = (delegate* unmanaged<nint, int, int, int, int, int, double*, ulong, int, ulong, int, double*, ulong, int, int>)lib.Export("cublasDgemm_v2");
        cublasDsyrk = (delegate* unmanaged<nint, int, int, int, int, double*, ulong, int, double*, ulong, int, int>)lib.Export("cublasDsyrk_v2");
        cublasGemmEx = (delegate* unmanaged<nint, int, int, int, int, int, void*, ulong, int, int, ulong, int, int, void*, ulong, int, int, int, int, int>)lib.Export("cublasGemmEx");
        cublasGetStatusName = (delegate* unmanaged<int, byte*>)lib.OptionalExport("cublasGetStatusName");
        cublasDnrm2 = (delegate* unmanaged<nint, int, ulong, int, double*, int>)lib.Export("cublasDnrm2_v2");
        cublasDdot = (delegate* unmanaged<nint, int, ulong, int, ulong, int, double*, int>)lib.Export("cublasDdot_v2");
        cublasDscal = (delegate* unmanaged<nint, int, double*, ulong, int, int>)lib.Export("cublasDscal_v2");
        cublasDaxpy = (delegate* unmanaged<nint, int, double*, ulong, int, ulong, int, int>)lib.Export("cublasDaxpy_v2");
        cublasDdgmm = (delegate* unmanaged<nint, int, int, int, ulong, int, ulong, int, ulong, int, int>)lib.Export("cublasDdgmm");
    }

    public string? Describe(int code)
    {
        if (cublasGetStatusName is null) return null;
        byte* s = cublasGetStatusName(code);
        return s is null ? null : Marshal.PtrToStringUTF8((nint)s);
    }
}

/// <summary>
/// cuSOLVER's dense symmetric eigensolver (cusolverDn.h): the square root's eigen route for singular or
/// ill-conditioned statistics. Optional: without it that route falls back to the CPU.
/// </summary>
internal sealed unsafe class CusolverApi
{
    public readonly delegate* unmanaged<nint*, int> cusolverDnCreate;
    public readonly delegate* unmanaged<nint, int> cusolverDnDestroy;
    public readonly delegate* unmanaged<nint, nint, int> cusolverDnSetStream;
    public readonly delegate* unmanaged<nint, int, int, int, ulong, int, ulong, int*, int> cusolverDnDsyevdBufferSize;
    public readonly delegate* unmanaged<nint, int, int, int, ulong, int, ulong, ulong, int, ulong, int> cusolverDnDsyevd;
    public readonly delegate* unmanaged<int*, int> cusolverGetVersion;

    public CusolverApi(NativeLibraryProbe lib)
    {
        cusolverDnCreate = (delegate* unmanaged<nint*, int>)lib.Export("cusolverDnCreate");
        cusolverDnDestroy = (delegate* unmanaged<nint, int>)lib.Export("cusolverDnDestroy");
        cusolverDnSetStream = (delegate* unmanaged<nint, nint, int>)lib.Export("cusolverDnSetStream");
        cusolverDnDsyevdBufferSize = (delegate* unmanaged<nint, int, int, int, ulong, int, ulong, int*, int>)lib.Export("cusolverDnDsyevd_bufferSize");
        cusolverDnDsyevd = (delegate* unmanaged<nint, int, int, int, ulong, int, ulong, ulong, int, ulong, int>)lib.Export("cusolverDnDsyevd");
        cusolverGetVersion = (delegate* unmanaged<int*, int>)lib.OptionalExport("cusolverGetVersion");
    }

    /// <summary>"12.0.0" from cusolverGetVersion's 12000 (major·1000 + minor·100 + patch); null when absent.</summary>
    public string? VersionText()
    {
        if (cusolverGetVersion is null) return null;
        int v;
        return cusolverGetVersion(&v) == 0 ? $"{v / 1000}.{v / 100 % 10}.{v % 100}" : null;
    }
}

/// <summary>cuBLAS and CUDA enum values used here (cublas_api.h, library_types.h, cuda.h).</summary>
internal static class CudaConstants
{
    public const int CublasOpN = 0;                     // CUBLAS_OP_N
    public const int CublasOpT = 1;                     // CUBLAS_OP_T
    public const int CublasFillModeLower = 0;           // CUBLAS_FILL_MODE_LOWER
    public const int CublasDefaultMath = 0;             // CUBLAS_DEFAULT_MATH
    public const int CublasPedanticMath = 2;            // CUBLAS_PEDANTIC_MATH
    public const int CublasTf32TensorOpMath = 3;        // CUBLAS_TF32_TENSOR_OP_MATH
    public const int CudaR32F = 0;                      // CUDA_R_32F
    public const int CudaR16F = 2;                      // CUDA_R_16F
    public const int CublasCompute32F = 68;             // CUBLAS_COMPUTE_32F
    public const int CublasCompute32FFastTf32 = 77;     // CUBLAS_COMPUTE_32F_FAST_TF32
    public const int CublasGemmDefault = -1;            // CUBLAS_GEMM_DEFAULT
    public const int AttributeMultiprocessorCount = 16; // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;
    public const int EventDefault = 0;                  // CU_EVENT_DEFAULT
    public const uint EventDisableTiming = 2;           // CU_EVENT_DISABLE_TIMING
    public const int StreamNonBlocking = 1;             // CU_STREAM_NON_BLOCKING
    public const int CublasSideLeft = 0;                // CUBLAS_SIDE_LEFT
    public const int CublasSideRight = 1;               // CUBLAS_SIDE_RIGHT
    public const int CusolverEigModeNoVector = 0;       // CUSOLVER_EIG_MODE_NOVECTOR
    public const int CusolverEigModeVector = 1;         // CUSOLVER_EIG_MODE_VECTOR
    public const uint HostAllocPortable = 1;            // CU_MEMHOSTALLOC_PORTABLE
}
