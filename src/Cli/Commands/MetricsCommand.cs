using System.CommandLine;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;

namespace GenMetrics.Cli.Commands;

public sealed class MetricsCommand : ICommand
{
    public string Name => "metrics";
    public string Summary => "Compute FID, KID, precision/recall, density/coverage and symmetric P/R between a real and a generated set.";
    public string Usage => "REAL FAKE [options]   (REAL, FAKE: .npy/.npz features, .npz statistics with mu/sigma (fid only), or a folder / .zip of images, or --list FILES.txt for an image list)";
    public int Order => 10;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("REAL", "the real set", optional: true),
        Opt.Positional("FAKE", "the generated set", optional: true),
        ImageInputOptions.ListSpec,
        Opt.Text("metrics", "comma-separated: fid,kid,pr,prdc,sym or all (default: all that the inputs allow, of the convention's)", "LIST"),
        CommonOptions.KList($"neighbourhood size(s) for pr/prdc/sym, e.g. 3 or 3,5,10 (default: the convention's, else pr {MetricDefaults.PrK}, prdc and sym {MetricDefaults.PrdcK})"),
        ConventionOptions.Spec,
        CommonOptions.Json("write one flat JSON object to PATH, or to stdout with '-'"),
        .. BackendOptions.Specs,
        CommonOptions.Key("array to read from an .npz holding several (applies to both inputs)"),
        Opt.Int("kid-subsets", "KID subsets", "N", MetricDefaults.KidSubsets, min: 1),
        Opt.Int("kid-subset-size", $"KID subset size (default {MetricDefaults.KidSubsetSize}; reduced to the smaller set if needed, unless the convention refuses)", "M", MetricDefaults.KidSubsetSize, min: 2),
        CommonOptions.Seed($"seed of every random draw (default {MetricDefaults.Seed}, torch-fidelity's)", MetricDefaults.Seed),
        CommonOptions.CovDivisor("covariance divisor for FID: n-1 (default, pytorch-fid) or n (StyleGAN2-ADA)"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        var convention = ConventionOptions.Resolve(args);
        var options = convention.Options;
        string? json = args.Get("json");
        var inputs = args.Inputs(2, "list", "REAL FAKE");
        OutputPaths.CheckFile(json, "--json", [".json"], inputs, allowStdout: true);
        var images = ImageInputOptions.From(args) with { Mode = convention.ImageMode, KnnLayer = convention.KnnLayer };
        var groups = options.Groups ?? convention.Convention.Groups;
        var (real, fake) = InputLoader.LoadPair(inputs[0], inputs[1], args.Get("key"), context, images, groups);
        // Created once the inputs are read: the CPU-fallback notice belongs to the computation, not to an input error.
        using var backend = BackendOptions.Create(args, context);

        PhaseTrace.Mark("evaluate");
        var result = Evaluator.Evaluate(real, fake, options, backend, phase => context.Progress.Start(phase));
        PhaseTrace.Mark("evaluated");
        context.Progress.Clear();
        ConventionOptions.Print(convention, result, context);
        foreach (var note in result.Notes) context.Notice(note);

        if (json is null)
        {
            context.Out.Write(result.ToTable());
        }
        else if (json == "-")
        {
            context.Out.WriteLine(result.ToJson());
        }
        else
        {
            OutputPaths.WriteText(json, result.ToJson() + "\n", context);
            context.Out.Write(result.ToTable());
        }
        return Program.ExitOk;
    }

    internal static CovarianceDivisor ParseDivisor(string s) => s.ToLowerInvariant() switch
    {
        "n-1" => CovarianceDivisor.NMinusOne,
        "n" => CovarianceDivisor.N,
        _ => throw new UsageException($"--cov-divisor expects n-1 or n, got '{s}'"),
    };
}
