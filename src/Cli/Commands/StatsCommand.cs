using System.CommandLine;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;

namespace GenMetrics.Cli.Commands;

public sealed class StatsCommand : ICommand
{
    public string Name => "stats";
    public string Summary => "Write the mean and covariance of a feature file as an .npz (mu, sigma; float64), the layout pytorch-fid and TTUR read.";
    public string Usage => "FEATURES -o OUT.npz [options]";
    public int Order => 20;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("FEATURES", "the feature file"),
        CommonOptions.Output("the .npz to write", "OUT.npz"),
        CommonOptions.Key(),
        CommonOptions.CovDivisor("n-1 (default, pytorch-fid/TTUR) or n (StyleGAN2-ADA)"),
        ConventionOptions.Spec,
        CommonOptions.Backend(),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        string output = args.Get("output") ?? throw new UsageException("missing -o OUT.npz");
        OutputPaths.CheckFile(output, "-o", [".npz"], args.Positional);
        var convention = ConventionOptions.Resolve(args, [MetricGroup.Fid]);
        var divisor = convention.Options.CovarianceDivisor;
        foreach (var note in convention.OverrideNotes) context.Notice(note);
        var input = FeatureFiles.Open(args.Positional[0], args.Get("key"));
        if (input is not FeatureFileInput file)
            throw new InputException($"{args.Positional[0]}: already holds statistics (mu, sigma)");
        if (file.Rows < 2)
            throw new InputException($"{args.Positional[0]}: needs at least 2 samples for a covariance, has {file.Rows}");
        using var backend = ComputeBackends.Create(args.Get("backend")!, context.NoticeWhenComputing);
        // Streamed from the file in float64 blocks: memory is O(block + D²) whatever the file's size.
        var stats = backend.ComputeStatistics(file, divisor, context.Progress.Start("statistics"));
        context.Progress.Clear();
        OutputPaths.Save(output, path => FeatureFiles.WriteStatistics(path, stats), context);
        context.Out.WriteLine($"wrote {output}: mu [{stats.Dim}], sigma [{stats.Dim}, {stats.Dim}] from {file.Rows} samples");
        context.Notice(ResolvedConvention.Table(convention.Convention.Name, convention.ChoicesFor([MetricGroup.Fid], images: false)));
        foreach (var d in convention.DifferencesFor([MetricGroup.Fid])) context.Notice($"{convention.Convention.Name} differs: {d}");
        return Program.ExitOk;
    }
}
