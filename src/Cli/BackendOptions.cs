using System.CommandLine;
using GenMetrics.Compute;

namespace GenMetrics.Cli;

/// <summary>--backend, --precision and --fp32-check, for the commands that evaluate k-NN metrics through the Evaluator.</summary>
internal static class BackendOptions
{
    public static IReadOnlyList<Symbol> Specs =>
    [
        CommonOptions.Backend(),
        CommonOptions.Precision("CUDA distance GEMMs: fp32 (default), tf32 or fp16; every k-NN decision is exact (float64 refinement) in all three"),
        Opt.Flag("fp32-check", "with --precision tf32|fp16: also run the k-NN pass in fp32 and report the membership decisions that differ (0 unless something is broken)"),
    ];

    public static IComputeBackend Create(ArgumentList args, CommandContext context) =>
        ComputeBackends.Create(args.Get("backend")!, context.NoticeWhenComputing, args.Get("precision")!);

    public static bool CompareWithFp32(ArgumentList args) => args.Flag("fp32-check");
}

/// <summary>Options that several commands declare alike: each is written here once, with its type, default and help.</summary>
internal static class CommonOptions
{
    /// <summary>
    /// --backend, checked while parsing (so that a typo fails before any input is read); the backend itself
    /// is created where the computation starts, after the inputs are read.
    /// </summary>
    public static Option<string?> Backend(string defaultValue = "auto", string? help = null, bool checkCudaFirst = true)
    {
        var option = Opt.Text("backend", help ?? "cpu, cuda or auto", "NAME", defaultValue, suggestions: ["cpu", "cuda", "auto"]);
        if (checkCudaFirst) CheckedBeforeRun.Add(option);
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } v && v.ToLowerInvariant() is not ("cpu" or "cuda" or "auto"))
                r.AddError($"unknown backend '{v}' (expected cpu, cuda or auto)");
        });
        return option;
    }

    /// <summary>The --backend options whose `cuda` is checked before the command runs (see <see cref="CheckCudaBeforeRun"/>).</summary>
    private static readonly HashSet<Option> CheckedBeforeRun = [];

    /// <summary>
    /// `--backend cuda` on a machine without a usable CUDA driver and device: one line naming what is missing,
    /// before any input is read (the backend itself is created only when the computation starts).
    /// </summary>
    public static void CheckCudaBeforeRun(ParseResult parseResult, Command command)
    {
        foreach (var option in command.Options)
        {
            if (!CheckedBeforeRun.Contains(option) || option is not Option<string?> backend) continue;
            if (parseResult.GetValue(backend)?.ToLowerInvariant() != "cuda") continue;
            if (GenMetrics.Cuda.CudaAvailability.Probe().UnavailableReason is { } reason)
                throw new InputException($"--backend cuda: {reason}");
        }
    }

    /// <summary>--precision, checked while parsing; fp16 or tf32 with --backend cpu is refused then too.</summary>
    public static Option<string?> Precision(string help, string valueName = "P")
    {
        var option = Opt.Text("precision", help, valueName, "fp32", suggestions: ["fp32", "tf32", "fp16"]);
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is not { } v) return;
            if (v.ToLowerInvariant() is not ("fp32" or "tf32" or "fp16"))
                r.AddError($"unknown precision '{v}' (expected fp32, tf32 or fp16)");
            else if (v.ToLowerInvariant() != "fp32" && r.Parent is System.CommandLine.Parsing.CommandResult command
                     && command.Command.Options.FirstOrDefault(o => o.Name == "--backend") is Option<string?> backend
                     && command.GetValue(backend)?.ToLowerInvariant() == "cpu")
                r.AddError($"--precision {v} needs the CUDA backend: the CPU computes distances in fp32 only");
        });
        return option;
    }

    public static Option<string?> Json(string help = "write JSON to PATH, or to stdout with '-'") => Opt.Text("json", help, "PATH|-");

    public static Option<string?> Key(string help = "array to read from an .npz holding several") => Opt.Text("key", help, "KEY");

    public static Option<string?> Output(string help, string valueName) => Opt.Text("output", help, valueName, shortName: 'o');

    public static Option<string?> Generator(string help = "the generator description (generator.json; see docs/generators.md)") => Opt.Text("generator", help, "G.json");

    /// <summary>--k of the realism score: one neighbourhood size.</summary>
    public static Option<int> K(string help = "neighbourhood size of the real radii", int defaultValue = 3) => Opt.Int("k", help, "K", defaultValue, min: 1);

    /// <summary>--k of the k-NN metric groups: one or several neighbourhood sizes.</summary>
    public static Option<int[]?> KList(string help) => Opt.IntList("k", help, "K");

    public static Option<int> Seed(string help, int defaultValue) => Opt.Int("seed", help, "S", defaultValue, min: 0);

    public static Option<int> Batch() => Opt.Int("batch", "images per generator call", "N", 16, min: 1, max: 4096);

    public static Option<double> Psi(string help = "truncation psi") => Opt.Number("psi", help, "PSI", 1.0);

    public static Option<int?> TruncationCutoff() =>
        Opt.OptionalInt("truncation-cutoff", "truncate only the first N style layers (stylegan generators; 0 truncates none)", "N", min: 0);

    public static Option<string?> CovDivisor(string help) => Opt.Text("cov-divisor", help, "n-1|n", "n-1", suggestions: ["n-1", "n"]);
}
