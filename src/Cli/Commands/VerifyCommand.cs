using System.CommandLine;
using System.Globalization;
using GenMetrics.Compute;
using GenMetrics.Cuda;
using GenMetrics.Verification;

namespace GenMetrics.Cli.Commands;

/// <summary>`genmetrics verify`: every backend method on CPU and CUDA with random data; exit 1 when a difference exceeds its tolerance.</summary>
public sealed class VerifyCommand : ICommand
{
    public string Name => "verify";
    public string Summary => "Compare the CUDA backend with the CPU backend on fresh random data (exit 1 on a difference beyond tolerance).";
    public string Usage => "[--backend cuda] [--precision fp32|tf32|fp16] [--seed N]";

    public IReadOnlyList<Symbol> Options { get; } =
    [
        CommonOptions.Backend("cuda", "backend to check against the CPU", checkCudaFirst: false),
        CommonOptions.Precision("distance GEMM precision of the CUDA backend", "fp32|tf32|fp16"),
        Opt.Int("seed", "random seed for the test data", "N", 1),
    ];

    public int Order => 95;

    public int Run(ArgumentList args, CommandContext context)
    {
        string backendName = args.Get("backend")!;
        if (backendName != "cuda") throw new UsageException($"--backend: only 'cuda' can be verified (against the CPU), got '{backendName}'");
        var precision = ComputeBackends.ParsePrecision(args.Get("precision")!);
        int seed = args.GetInt("seed");

        var report = CudaAvailability.Probe();
        if (report.UnavailableReason is not null)
        {
            context.Error.WriteLine($"genmetrics verify: CUDA unavailable: {report.UnavailableReason}");
            return Program.ExitBadInput;
        }
        CudaBackend cuda;
        try
        {
            cuda = CudaBackend.Create(precision);
        }
        catch (Exception e) when (e is GenMetrics.Cuda.Interop.CudaException or InvalidOperationException or EntryPointNotFoundException)
        {
            context.Error.WriteLine($"genmetrics verify: CUDA unavailable: {e.Message}");
            return Program.ExitBadInput;
        }
        using (cuda)
        using (var cpu = new CpuBackend())
        {
            context.Out.WriteLine($"reference: {cpu.Description}");
            context.Out.WriteLine($"candidate: {cuda.Description}");
            var lines = new BackendVerifier(cpu, cuda, seed).Run(context.Notice);
            int failed = 0;
            foreach (var line in lines)
            {
                if (!line.Passed) failed++;
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(line.Passed ? "ok  " : "FAIL")} {line.Case} | {line.Method} | {line.Quantity}: {line.Difference:G3} (tolerance {line.Tolerance:G3}){(line.Note is null ? "" : " " + line.Note)}"));
            }
            context.Out.WriteLine(failed == 0 ? $"all {lines.Count} checks passed" : $"{failed} of {lines.Count} checks failed");
            return failed == 0 ? Program.ExitOk : Program.ExitCheckFailed;
        }
    }
}
