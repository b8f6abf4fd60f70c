using System.CommandLine;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Imaging;

namespace GenMetrics.Cli.Commands;

public sealed class StatsCommand : ICommand
{
    public string Name => "stats";
    public string Summary => "Write the mean and covariance of a feature file, or of a folder/zip of images (Inception pool3), as an .npz (mu, sigma; float64), the layout pytorch-fid and TTUR read (pytorch-fid --save-stats).";
    public string Usage => "FEATURES|IMAGES|--list FILES.txt -o OUT.npz [options]";
    public int Order => 20;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("FEATURES|IMAGES", "a feature file, or a folder / .zip / .txt list of images", optional: true),
        ImageInputOptions.ListSpec,
        CommonOptions.Output("the .npz to write", "OUT.npz"),
        CommonOptions.Key(),
        CommonOptions.CovDivisor("n-1 (default, pytorch-fid/TTUR) or n (StyleGAN2-ADA)"),
        ConventionOptions.Spec,
        CommonOptions.Backend(),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        string input = args.Inputs(1, "list", "FEATURES|IMAGES")[0];
        string output = args.Get("output") ?? throw new UsageException("missing -o OUT.npz");
        OutputPaths.CheckFile(output, "-o", [".npz"], [input]);
        // stats computes FID's statistics only: no metric groups are asked for, so none "overrides" the convention's.
        var convention = ConventionOptions.Resolve(args);
        var divisor = convention.Options.CovarianceDivisor;
        foreach (var note in convention.OverrideNotes) context.Notice(note);
        bool images = InputLoader.IsImageSource(input);
        // Images: features of the FID layer (or --network/--layer) first. A feature file is streamed in
        // float64 blocks: memory is O(block + D²) whatever the file's size.
        var imageOptions = ImageInputOptions.From(args);
        IRowBlockSource source = images
            ? InputLoader.LoadFeatures(input, null, context, imageOptions, FeatureLayer.For(MetricGroup.Fid))
            : FeatureFiles.Open(input, args.Get("key")) as FeatureFileInput ?? throw new InputException($"{input}: already holds statistics (mu, sigma)");
        string unit = images ? "images" : "samples";
        if (source.Rows < 2)
            throw new InputException($"{input}: needs at least 2 {unit} for a covariance, has {source.Rows}");
        using var backend = ComputeBackends.Create(args.Get("backend")!, context.NoticeWhenComputing);
        var stats = backend.ComputeStatistics(source, divisor, context.Progress.Start("statistics"));
        context.Progress.Clear();
        OutputPaths.Save(output, path => FeatureFiles.WriteStatistics(path, stats), context);
        context.Out.WriteLine($"wrote {output}: mu [{stats.Dim}], sigma [{stats.Dim}, {stats.Dim}] from {source.Rows} {unit}");
        context.Notice(ResolvedConvention.Table(convention.Convention.Name, convention.ChoicesFor([MetricGroup.Fid], images, images ? imageOptions.OwnNetworkName : null)));
        foreach (var d in convention.DifferencesFor([MetricGroup.Fid], images)) context.Notice($"{convention.Convention.Name} differs: {d}");
        return Program.ExitOk;
    }
}
