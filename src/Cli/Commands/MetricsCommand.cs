using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;

namespace GenMetrics.Cli.Commands;

public sealed class MetricsCommand : ICommand
{
    public string Name => "metrics";
    public string Summary => "Compute FID, KID, precision/recall, density/coverage and symmetric P/R between a real and a generated set.";
    public string Usage => "REAL FAKE [options]   (REAL, FAKE: .npy/.npz features, .npz statistics with mu/sigma (fid only), or a folder / .zip of images)";
    public int Order => 10;

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("metrics", "comma-separated: fid,kid,pr,prdc,sym or all (default: all that the inputs allow, of the convention's)", ValueName: "LIST"),
        new("k", $"neighbourhood size(s) for pr/prdc/sym, e.g. 3 or 3,5,10 (default: the convention's, else pr {MetricDefaults.PrK}, prdc and sym {MetricDefaults.PrdcK})", ValueName: "K"),
        ConventionOptions.Spec,
        new("json", "write one flat JSON object to PATH, or to stdout with '-'", ValueName: "PATH|-"),
        .. BackendOptions.Specs,
        new("key", "array to read from an .npz holding several (applies to both inputs)", ValueName: "KEY"),
        new("kid-subsets", $"KID subsets (default {MetricDefaults.KidSubsets})", ValueName: "N"),
        new("kid-subset-size", $"KID subset size (default {MetricDefaults.KidSubsetSize}; reduced to the smaller set if needed, unless the convention refuses)", ValueName: "M"),
        new("seed", $"seed of every random draw (default {MetricDefaults.Seed}, torch-fidelity's)", ValueName: "S"),
        new("cov-divisor", "covariance divisor for FID: n-1 (default, pytorch-fid) or n (StyleGAN2-ADA)", ValueName: "n-1|n"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        args.RequirePositional("REAL", "FAKE");
        var convention = ConventionOptions.Resolve(args);
        var options = convention.Options;
        string? json = args.Get("json");
        using var backend = BackendOptions.Create(args, context);
        var images = ImageInputOptions.From(args) with { Mode = convention.ImageMode, KnnLayer = convention.KnnLayer };
        var groups = options.Groups ?? convention.Convention.Groups;
        var real = InputLoader.Load(args.Positional[0], args.Get("key"), context, images, groups);
        var fake = InputLoader.Load(args.Positional[1], args.Get("key"), context, images, groups);

        var result = Evaluator.Evaluate(real, fake, options, backend, phase => context.Progress.Start(phase));
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
            AtomicFile.WriteAllText(json, result.ToJson() + "\n");
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
