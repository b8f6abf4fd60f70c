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
                notice?.Invoke($"running on the CPU ({CudaUnavailableReason()})");
                return new CpuBackend();
            default:
                throw new InputException($"unknown backend '{name}' (expected cpu, cuda or auto)");
        }
    }

    // Filled in by the CUDA backend: returns null when no usable device is present.
    private static IComputeBackend? CreateCuda() => null;

    private static string CudaUnavailableReason() => "the CUDA backend is not built into this version";
}
