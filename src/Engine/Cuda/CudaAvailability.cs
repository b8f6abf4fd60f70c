using GenMetrics.Cuda.Interop;

namespace GenMetrics.Cuda;

/// <summary>What `genmetrics devices` prints: each library tried, versions, devices, and why CUDA is unusable.</summary>
public sealed record CudaReport(
    IReadOnlyList<string> LibraryLines,
    string? DriverVersion,
    string? NvrtcVersion,
    IReadOnlyList<CudaDeviceInfo> Devices,
    string? UnavailableReason);

/// <summary>Probes the CUDA libraries and devices without ever throwing.</summary>
public static class CudaAvailability
{
    /// <summary>Loads the libraries (once per process), initialises the driver and lists the devices.</summary>
    public static CudaReport Probe()
    {
        var lines = new List<string>();
        string? driverVersion = null, nvrtcVersion = null;
        var devices = new List<CudaDeviceInfo>();
        CudaLibraries libs;
        try
        {
            libs = CudaLibraries.Get();
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
            return new CudaReport(lines, null, null, devices, $"loading the CUDA libraries failed: {e.Message}");
        }
        lines.Add($"library choice: {libs.SelectionReason}");
        foreach (var p in new[] { libs.DriverProbe, libs.NvrtcProbe, libs.CublasProbe, libs.CusolverProbe })
            lines.Add($"{p.Purpose}: {(p.IsLoaded ? p.LoadedName : "not loaded")} (tried {string.Join(", ", p.Attempts)})");
        if (libs.Cusolver is null)
            lines.Add($"cuSOLVER is optional: without it the FID square root's eigen route (singular or ill-conditioned statistics) runs on the CPU{(libs.CusolverProblem is null ? "" : $" ({libs.CusolverProblem})")}");
        else if (libs.Cusolver.VersionText() is { } solverVersion)
            lines.Add($"cuSOLVER {solverVersion}");
        lines.Add(Nvtx.Status);

        string? reason = libs.MissingReason;
        if (libs.Driver is not null)
        {
            try
            {
                int v = CudaSession.InitialiseDriver(libs);
                driverVersion = CudaLibraries.FormatVersion(v);
                if (v < CudaLibraries.MinimumDriverVersion)
                    reason = Join(reason, $"driver too old: it supports CUDA {driverVersion}, CUDA {CudaLibraries.FormatVersion(CudaLibraries.MinimumDriverVersion)} or newer is needed");
                devices.AddRange(CudaSession.EnumerateDevices(libs));
                if (devices.Count == 0) reason = Join(reason, "the driver reports no CUDA device");
            }
            catch (CudaException e)
            {
                reason = Join(reason, e.Code == CudaStatus.DriverNoDevice ? "no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)" : e.Message);
            }
        }
        if (libs.Nvrtc is not null)
        {
            try
            {
                var (major, minor) = NvrtcCompiler.Version(libs);
                nvrtcVersion = $"{major}.{minor}";
            }
            catch (CudaException e)
            {
                reason = Join(reason, e.Message);
            }
        }
        return new CudaReport(lines, driverVersion, nvrtcVersion, devices, reason);
    }

    private static string Join(string? a, string b) => a is null ? b : $"{a}; {b}";
}
