using System.CommandLine;
using GenMetrics.Cuda;

namespace GenMetrics.Cli.Commands;

/// <summary>`genmetrics devices`: the CUDA libraries found (or not), their versions, the devices, and why CUDA would be refused.</summary>
public sealed class DevicesCommand : ICommand
{
    public string Name => "devices";
    public string Summary => "List the CUDA libraries and devices found, and why CUDA is unavailable if it is.";
    public string Usage => "";
    public IReadOnlyList<Symbol> Options { get; } = [];
    public int Order => 90;

    public int Run(ArgumentList args, CommandContext context)
    {
        var w = context.Out;
        w.WriteLine($"cpu: {new GenMetrics.Compute.CpuBackend().Description}");
        var report = CudaAvailability.Probe();
        foreach (var line in report.LibraryLines) w.WriteLine(line);
        if (report.DriverVersion is not null) w.WriteLine($"CUDA driver supports CUDA {report.DriverVersion}");
        if (report.NvrtcVersion is not null) w.WriteLine($"NVRTC {report.NvrtcVersion}");
        if (report.Devices.Count == 0) w.WriteLine("no CUDA device");
        foreach (var d in report.Devices) w.WriteLine($"device {d}");
        if (report.UnavailableReason is not null)
        {
            w.WriteLine($"cuda backend: unavailable ({report.UnavailableReason})");
            return Program.ExitOk;
        }
        // The probe cannot see a failure in context, cuBLAS handle or kernel compilation: try for real.
        try
        {
            using var backend = CudaBackend.Create();
            w.WriteLine($"cuda backend: available ({backend.Description})");
        }
        catch (Exception e) when (e is GenMetrics.Cuda.Interop.CudaException or InvalidOperationException or EntryPointNotFoundException)
        {
            w.WriteLine($"cuda backend: unavailable ({e.Message})");
        }
        return Program.ExitOk;
    }
}
