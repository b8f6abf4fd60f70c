using GenMetrics.Cuda;

namespace GenMetrics.Compute;

/// <summary>Chooses a compute backend by name: cpu, cuda or auto.</summary>
public static class ComputeBackends
{
    /// <summary>
    /// "cpu" always works. "cuda" throws an <see cref="InputException"/> naming what is missing when no
    /// usable device is present. "auto" uses CUDA when it is usable and otherwise the CPU, reporting the
    /// reason through <paramref name="notice"/>. <paramref name="precision"/> (fp32, tf32 or fp16) is the
    /// arithmetic of the CUDA distance GEMMs; the CPU computes in fp32 only, so asking it for another is an
    /// error with "cpu" and a notice with "auto".
    /// </summary>
    public static IComputeBackend Create(string name, Action<string>? notice = null, string precision = "fp32")
    {
        var cudaPrecision = ParsePrecision(precision);
        switch (name.ToLowerInvariant())
        {
            case "cpu":
                if (cudaPrecision != CudaPrecision.Fp32)
                    throw new InputException($"--precision {precision} needs the CUDA backend: the CPU computes distances in fp32 only");
                return new CpuBackend();
            case "cuda":
                return Connect(CreateCuda(cudaPrecision), notice) ?? throw new InputException($"--backend cuda: {CudaUnavailableReason()}");
            case "auto":
                var cuda = Connect(CreateCuda(cudaPrecision), notice);
                if (cuda is not null) return cuda;
                // One short line: the full list of libraries tried is what `genmetrics devices` is for.
                string reason = CudaUnavailableReason();
                int cut = reason.IndexOf(';');
                string precisionNote = cudaPrecision == CudaPrecision.Fp32 ? "" : $" in fp32 (--precision {precision} applies to CUDA only)";
                notice?.Invoke($"running on the CPU{precisionNote}: {(cut > 0 ? reason[..cut] : reason)} ('genmetrics devices' says more)");
                return new CpuBackend();
            default:
                throw new InputException($"unknown backend '{name}' (expected cpu, cuda or auto)");
        }
    }

    /// <summary>Gives a CUDA backend the caller's notice channel (it says there when it streams row panels).</summary>
    private static IComputeBackend? Connect(IComputeBackend? backend, Action<string>? notice)
    {
        if (backend is CudaBackend cuda) cuda.Notice = notice;
        return backend;
    }

    /// <summary>The distance GEMM precision named by --precision.</summary>
    public static CudaPrecision ParsePrecision(string precision) => precision.ToLowerInvariant() switch
    {
        "fp32" => CudaPrecision.Fp32,
        "tf32" => CudaPrecision.Tf32,
        "fp16" => CudaPrecision.Fp16,
        _ => throw new InputException($"unknown precision '{precision}' (expected fp32, tf32 or fp16)"),
    };

    private static string? _cudaFailure;

    /// <summary>
    /// A CUDA backend on device 0 with the given distance GEMM precision, created only after a context, a cuBLAS handle and the
    /// kernels exist; null otherwise, with the reason kept for <see cref="CudaUnavailableReason"/>.
    /// Nothing CUDA is loaded before this is called.
    /// </summary>
    internal static IComputeBackend? CreateCuda(CudaPrecision precision = CudaPrecision.Fp32)
    {
        var report = GenMetrics.Cuda.CudaAvailability.Probe();
        if (report.UnavailableReason is not null)
        {
            _cudaFailure = report.UnavailableReason;
            return null;
        }
        try
        {
            return GenMetrics.Cuda.CudaBackend.Create(precision);
        }
        catch (Exception e) when (e is GenMetrics.Cuda.Interop.CudaException or InvalidOperationException or EntryPointNotFoundException or DllNotFoundException)
        {
            _cudaFailure = $"CUDA initialisation failed: {e.Message}";
            return null;
        }
    }

    /// <summary>Why <see cref="CreateCuda"/> returned null (or what a probe finds missing when it was not called).</summary>
    internal static string CudaUnavailableReason() =>
        _cudaFailure ?? GenMetrics.Cuda.CudaAvailability.Probe().UnavailableReason ?? "CUDA is available";
}
