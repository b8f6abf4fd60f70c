using GenMetrics.Compute;

namespace GenMetrics.Cli;

/// <summary>--backend, --precision and --no-fp32-check, for the commands that evaluate k-NN metrics through the Evaluator.</summary>
internal static class BackendOptions
{
    public static IReadOnlyList<OptionSpec> Specs { get; } =
    [
        new("backend", "cpu, cuda or auto (default auto)", ValueName: "NAME"),
        new("precision", "CUDA distance GEMMs: fp32 (default), tf32 or fp16; the faster two also run fp32 and report the membership decisions that differ", ValueName: "P"),
        OptionSpec.Flag("no-fp32-check", "with --precision tf32|fp16: skip the fp32 comparison run (the result then only names the precision)"),
    ];

    public static IComputeBackend Create(ArgumentList args, CommandContext context) =>
        ComputeBackends.Create(args.Get("backend", "auto"), context.Notice, args.Get("precision", "fp32"));

    public static bool CompareWithFp32(ArgumentList args) => !args.Flag("no-fp32-check");
}
