using System.CommandLine;
using System.Globalization;
using GenMetrics.Evaluation;
using GenMetrics.Imaging;
using GenMetrics.Metrics;

namespace GenMetrics.Cli.Commands;

public sealed class InceptionScoreCommand : ICommand
{
    public string Name => "is";
    public string Summary => "Inception Score from a folder or zip of images (Inception logits_unbiased, as every reference), or an [N, classes] .npy of logits or probabilities.";
    public string Usage => "IMAGES|LOGITS [options]";
    public int Order => 40;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("IMAGES|LOGITS", "a folder, .zip or .txt list of images, or an [N, classes] .npy (or .npz with --key) of logits or probabilities", optional: true),
        ImageInputOptions.ListSpec,
        Opt.OptionalInt("splits", $"number of splits (default: the convention's, else {MetricDefaults.InceptionScoreSplits})", "S", min: 1),
        Opt.Flag("shuffle", "shuffle rows before splitting, as torch-fidelity does (default: the convention's, else generation order, as StyleGAN2-ADA)"),
        Opt.OptionalInt("seed", $"seed of the shuffle (default {MetricDefaults.Seed}, torch-fidelity's)", "S", min: 0),
        ConventionOptions.Spec,
        CommonOptions.Key(),
        CommonOptions.Json(),
        Opt.Text("input", "what the rows are: logits, probabilities or auto (auto: probabilities when every value lies in [0, 1]; the choice is reported)", "KIND", "auto", suggestions: ["logits", "probabilities", "auto"]),
        Opt.Flag("renormalize", "probabilities: divide each row by its sum instead of refusing rows that do not sum to 1 (within 1e-3)"),
        .. ImageInputOptions.Specs,
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
        string input = args.Inputs(1, "list", "IMAGES|LOGITS")[0];
        OutputPaths.CheckFile(args.Get("json"), "--json", [".json"], [input], allowStdout: true);
        var kind = ParseInput(args.Get("input")!);
        var logits = InputLoader.LoadFeatures(input, args.Get("key"), context, ImageInputOptions.From(args), FeatureLayer.ForInceptionScore);
        var convention = Conventions.Resolve(args.Get("convention"), new ConventionOverrides
        {
            InceptionScoreSplits = args.GetOptionalInt("splits"),
            InceptionScoreShuffle = args.Flag("shuffle") ? true : null,
            Seed = args.GetOptionalInt("seed"),
        });
        foreach (var note in convention.OverrideNotes) context.Notice(note);
        foreach (var d in convention.DifferencesFor([])) context.Notice($"{convention.Convention.Name} differs: {d}");
        int splits = convention.InceptionScoreSplits;
        var r = InceptionScore.Compute(logits, splits, convention.InceptionScoreShuffle, convention.Options.Seed, kind, args.Flag("renormalize"));
        context.Notice($"{input}: read as {r.InputReason}");
        foreach (var warning in r.Warnings) context.Notice(warning);
        context.Notice(string.Create(CultureInfo.InvariantCulture,
            $"convention {convention.Convention.Name}: {splits} splits, {(convention.InceptionScoreShuffle ? $"shuffled with RandomState({convention.Options.Seed})" : "generation order")}"));
        string json = $"{{\n  \"is_mean\": {r.Mean.ToString("R", CultureInfo.InvariantCulture)},\n  \"is_std\": {r.Std.ToString("R", CultureInfo.InvariantCulture)},\n  \"splits\": {splits},\n  \"n\": {logits.Rows},\n  \"classes\": {logits.Dim},\n  \"convention\": \"{convention.Convention.Name}\",\n  \"is_shuffle\": {(convention.InceptionScoreShuffle ? "true" : "false")},\n  \"seed\": {convention.Options.Seed}\n}}";
        string? target = args.Get("json");
        if (target == "-")
        {
            context.Out.WriteLine(json);
            return Program.ExitOk;
        }
        if (target is not null) OutputPaths.WriteText(target, json + "\n", context);
        context.Out.WriteLine($"inception score  {r.Mean:0.0000} ± {r.Std:0.0000}  ({logits.Rows} samples in {splits} splits of {(logits.Rows % splits == 0 ? "" : "~")}{logits.Rows / splits}, {logits.Dim} classes)");
        return Program.ExitOk;
    }
}
