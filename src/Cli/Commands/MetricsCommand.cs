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
        new("metrics", "comma-separated: fid,kid,pr,prdc,sym or all (default: all that the inputs allow)", ValueName: "LIST"),
        new("k", "neighbourhood size(s) for pr/prdc/sym, e.g. 3 or 3,5,10 (default: pr 3, prdc and sym 5)", ValueName: "K"),
        new("json", "write one flat JSON object to PATH, or to stdout with '-'", ValueName: "PATH|-"),
        .. BackendOptions.Specs,
        new("key", "array to read from an .npz holding several (applies to both inputs)", ValueName: "KEY"),
        new("kid-subsets", "KID subsets (default 100)", ValueName: "N"),
        new("kid-subset-size", "KID subset size (default 1000; reduced to the smaller set if needed)", ValueName: "M"),
        new("seed", "seed of every random draw (default 2020, torch-fidelity's)", ValueName: "S"),
        new("cov-divisor", "covariance divisor for FID: n-1 (default, pytorch-fid) or n (StyleGAN2-ADA)", ValueName: "n-1|n"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        args.RequirePositional("REAL", "FAKE");
        var options = new EvaluationOptions
        {
            Groups = args.Get("metrics") is { } m ? MetricRegistry.Parse(m) : null,
            Ks = args.GetIntList("k", min: 1),
            KidSubsets = args.GetInt("kid-subsets", 100, min: 1),
            KidSubsetSize = args.GetInt("kid-subset-size", 1000, min: 2),
            Seed = args.GetInt("seed", 2020, min: 0),
            CovarianceDivisor = ParseDivisor(args.Get("cov-divisor", "n-1")),
            CompareWithFp32 = BackendOptions.CompareWithFp32(args),
        };
        string? json = args.Get("json");
        OutputPaths.CheckFile(json, "--json", [".json"], args.Positional, allowStdout: true);
        using var backend = BackendOptions.Create(args, context);
        var images = ImageInputOptions.From(args);
        var real = InputLoader.Load(args.Positional[0], args.Get("key"), context, images, options.Groups);
        var fake = InputLoader.Load(args.Positional[1], args.Get("key"), context, images, options.Groups);

        var result = Evaluator.Evaluate(real, fake, options, backend, phase => context.Progress.Start(phase));
        context.Progress.Clear();
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
