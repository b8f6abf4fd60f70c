using System.Globalization;
using GenMetrics.Imaging;
using GenMetrics.Metrics;

namespace GenMetrics.Cli.Commands;

public sealed class InceptionScoreCommand : ICommand
{
    public string Name => "is";
    public string Summary => "Inception Score from a folder or zip of images (Inception logits_unbiased, as every reference), or an [N, classes] .npy of logits or probabilities.";
    public string Usage => "IMAGES|LOGITS [options]";
    public int Order => 40;

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("splits", "number of splits (default 10)", ValueName: "S"),
        OptionSpec.Flag("shuffle", "shuffle rows before splitting, as torch-fidelity does (default: generation order, as StyleGAN2-ADA)"),
        new("seed", "seed of the shuffle (default 2020, torch-fidelity's)", ValueName: "S"),
        new("key", "array to read from an .npz holding several", ValueName: "KEY"),
        new("json", "write JSON to PATH, or to stdout with '-'", ValueName: "PATH|-"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        args.RequirePositional("LOGITS");
        var logits = InputLoader.LoadFeatures(args.Positional[0], args.Get("key"), context, ImageInputOptions.From(args), FeatureLayer.ForInceptionScore);
        int splits = args.GetInt("splits", 10, min: 1);
        var r = InceptionScore.Compute(logits, splits, args.Flag("shuffle"), args.GetInt("seed", 2020, min: 0));
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
