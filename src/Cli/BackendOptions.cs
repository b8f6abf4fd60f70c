using GenMetrics.Compute;

namespace GenMetrics.Cli;

/// <summary>--backend, --precision and --fp32-check, for the commands that evaluate k-NN metrics through the Evaluator.</summary>
internal static class BackendOptions
{
    public static IReadOnlyList<OptionSpec> Specs { get; } =
    [
        new("backend", "cpu, cuda or auto (default auto)", ValueName: "NAME"),
        new("precision", "CUDA distance GEMMs: fp32 (default), tf32 or fp16; every k-NN decision is exact (float64 refinement) in all three", ValueName: "P"),
        OptionSpec.Flag("fp32-check", "with --precision tf32|fp16: also run the k-NN pass in fp32 and report the membership decisions that differ (0 unless something is broken)"),
    ];

    public static IComputeBackend Create(ArgumentList args, CommandContext context) =>
        ComputeBackends.Create(args.Get("backend", "auto"), context.Notice, args.Get("precision", "fp32"));

    public static bool CompareWithFp32(ArgumentList args) => args.Flag("fp32-check");
}
