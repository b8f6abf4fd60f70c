using System.CommandLine;
using System.Globalization;
using GenMetrics.Metrics;

namespace GenMetrics.Cli.Commands;

public sealed class InceptionScoreCommand : ICommand
{
    public string Name => "is";
    public string Summary => "Inception Score from an [N, classes] .npy of logits (without the fc bias, as every reference) or of probabilities.";
    public string Usage => "LOGITS [options]";
    public int Order => 40;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("LOGITS", "an [N, classes] .npy (or .npz with --key) of logits or probabilities"),
        Opt.Int("splits", "number of splits", "S", 10, min: 1),
        Opt.Flag("shuffle", "shuffle rows before splitting, as torch-fidelity does (default: generation order, as StyleGAN2-ADA)"),
        CommonOptions.Seed("seed of the shuffle (default 2020, torch-fidelity's)", 2020),
        CommonOptions.Key(),
        CommonOptions.Json(),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        var logits = InputLoader.LoadFeatures(args.Positional[0], args.Get("key"), context);
        int splits = args.GetInt("splits");
        var r = InceptionScore.Compute(logits, splits, args.Flag("shuffle"), args.GetInt("seed"));
        string json = $"{{\n  \"is_mean\": {r.Mean.ToString("R", CultureInfo.InvariantCulture)},\n  \"is_std\": {r.Std.ToString("R", CultureInfo.InvariantCulture)},\n  \"splits\": {splits},\n  \"n\": {logits.Rows},\n  \"classes\": {logits.Dim}\n}}";
        string? target = args.Get("json");
        if (target == "-")
        {
            context.Out.WriteLine(json);
            return Program.ExitOk;
        }
        if (target is not null) AtomicFile.WriteAllText(target, json + "\n");
        context.Out.WriteLine($"inception score  {r.Mean:0.0000} ± {r.Std:0.0000}  ({splits} splits of {logits.Rows} samples, {logits.Dim} classes)");
        return Program.ExitOk;
    }
}
