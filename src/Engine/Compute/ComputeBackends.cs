namespace GenMetrics.Compute;

/// <summary>Chooses a compute backend by name: cpu, cuda or auto.</summary>
public static class ComputeBackends
{
    /// <summary>
    /// "cpu" always works. "cuda" throws an <see cref="InputException"/> naming what is missing when no
    /// usable device is present. "auto" uses CUDA when it is usable and otherwise the CPU, reporting the
    /// reason through <paramref name="notice"/>.
    /// </summary>
    public static IComputeBackend Create(string name, Action<string>? notice = null)
    {
        switch (name.ToLowerInvariant())
        {
            case "cpu":
                return new CpuBackend();
            case "cuda":
                return CreateCuda() ?? throw new InputException($"--backend cuda: {CudaUnavailableReason()}");
            case "auto":
                var cuda = CreateCuda();
                if (cuda is not null) return cuda;
                // One short line: the full list of libraries tried is what `genmetrics devices` is for.
                string reason = CudaUnavailableReason();
                int cut = reason.IndexOf(';');
                notice?.Invoke($"running on the CPU: {(cut > 0 ? reason[..cut] : reason)} ('genmetrics devices' says more)");
                return new CpuBackend();
            default:
                throw new InputException($"unknown backend '{name}' (expected cpu, cuda or auto)");
        }
    }

    private static string? _cudaFailure;

    /// <summary>
    /// A CUDA backend on device 0 (fp32 distance GEMMs), created only after a context, a cuBLAS handle and the
    /// kernels exist; null otherwise, with the reason kept for <see cref="CudaUnavailableReason"/>.
    /// Nothing CUDA is loaded before this is called.
    /// </summary>
    internal static IComputeBackend? CreateCuda()
    {
        var report = GenMetrics.Cuda.CudaAvailability.Probe();
        if (report.UnavailableReason is not null)
        {
            _cudaFailure = report.UnavailableReason;
            return null;
        }
        try
        {
            return GenMetrics.Cuda.CudaBackend.Create();
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
