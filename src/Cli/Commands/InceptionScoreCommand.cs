using System.Globalization;
using GenMetrics.Metrics;

namespace GenMetrics.Cli.Commands;

public sealed class InceptionScoreCommand : ICommand
{
    public string Name => "is";
    public string Summary => "Inception Score from an [N, classes] .npy of logits (without the fc bias, as every reference) or of probabilities.";
    public string Usage => "LOGITS [options]";
    public int Order => 40;

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("splits", "number of splits (default 10)", ValueName: "S"),
        OptionSpec.Flag("shuffle", "shuffle rows before splitting, as torch-fidelity does (default: generation order, as StyleGAN2-ADA)"),
        new("seed", "seed of the shuffle (default 2020, torch-fidelity's)", ValueName: "S"),
        new("key", "array to read from an .npz holding several", ValueName: "KEY"),
        new("json", "write JSON to PATH, or to stdout with '-'", ValueName: "PATH|-"),
        new("input", "what the rows are: logits, probabilities or auto (default: probabilities when every value lies in [0, 1]; the choice is reported)", ValueName: "KIND"),
        OptionSpec.Flag("renormalize", "probabilities: divide each row by its sum instead of refusing rows that do not sum to 1 (within 1e-3)"),
    ];

    internal static InceptionScoreInput ParseInput(string s) => s.ToLowerInvariant() switch
    {
        "auto" => InceptionScoreInput.Auto,
        "logits" => InceptionScoreInput.Logits,
        "probabilities" or "probs" => InceptionScoreInput.Probabilities,
        _ => throw new UsageException($"--input expects logits, probabilities or auto, got '{s}'"),
    };

    public int Run(ArgumentList args, CommandContext context)
    {
        args.RequirePositional("LOGITS");
        OutputPaths.CheckFile(args.Get("json"), "--json", [".json"], args.Positional, allowStdout: true);
        var kind = ParseInput(args.Get("input", "auto"));
        var logits = InputLoader.LoadFeatures(args.Positional[0], args.Get("key"), context);
        int splits = args.GetInt("splits", 10, min: 1);
        var r = InceptionScore.Compute(logits, splits, args.Flag("shuffle"), args.GetInt("seed", 2020, min: 0), kind, args.Flag("renormalize"));
        context.Notice($"{args.Positional[0]}: read as {r.InputReason}");
        foreach (var warning in r.Warnings) context.Notice(warning);
        string json = $"{{\n  \"is_mean\": {r.Mean.ToString("R", CultureInfo.InvariantCulture)},\n  \"is_std\": {r.Std.ToString("R", CultureInfo.InvariantCulture)},\n  \"splits\": {splits},\n  \"n\": {logits.Rows},\n  \"classes\": {logits.Dim}\n}}";
        string? target = args.Get("json");
        if (target == "-")
        {
            context.Out.WriteLine(json);
            return Program.ExitOk;
        }
        if (target is not null) OutputPaths.WriteText(target, json + "\n", context);
        context.Out.WriteLine($"inception score  {r.Mean:0.0000} ± {r.Std:0.0000}  ({splits} splits of {logits.Rows} samples, {logits.Dim} classes)");
        return Program.ExitOk;
    }
}
