using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Imaging;

namespace GenMetrics.Cli.Commands;

public sealed class StatsCommand : ICommand
{
    public string Name => "stats";
    public string Summary => "Write the mean and covariance of a feature file, or of a folder/zip of images (Inception pool3), as an .npz (mu, sigma; float64), the layout pytorch-fid and TTUR read (pytorch-fid --save-stats).";
    public string Usage => "FEATURES|IMAGES -o OUT.npz [options]";
    public int Order => 20;

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("output", "the .npz to write", ValueName: "OUT.npz", Short: 'o'),
        new("key", "array to read from an .npz holding several", ValueName: "KEY"),
        new("cov-divisor", "n-1 (default, pytorch-fid/TTUR) or n (StyleGAN2-ADA)", ValueName: "n-1|n"),
        new("backend", "cpu, cuda or auto (default auto)", ValueName: "NAME"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        args.RequirePositional("FEATURES");
        string output = args.Get("output") ?? throw new UsageException("missing -o OUT.npz");
        var divisor = MetricsCommand.ParseDivisor(args.Get("cov-divisor", "n-1"));
        if (InputLoader.IsImageSource(args.Positional[0]))
        {
            // Images: features of the FID layer (or --network/--layer) first, then their statistics.
            var features = InputLoader.LoadFeatures(args.Positional[0], null, context, ImageInputOptions.From(args), FeatureLayer.For(MetricGroup.Fid));
            if (features.Rows < 2)
                throw new InputException($"{args.Positional[0]}: needs at least 2 images for a covariance, has {features.Rows}");
            using var cpuOrGpu = ComputeBackends.Create(args.Get("backend", "auto"), context.Notice);
            var fromImages = cpuOrGpu.ComputeStatistics(features, divisor, context.Progress.Start("statistics"));
            context.Progress.Clear();
            FeatureFiles.WriteStatistics(output, fromImages);
            context.Out.WriteLine($"wrote {output}: mu [{fromImages.Dim}], sigma [{fromImages.Dim}, {fromImages.Dim}] from {features.Rows} images");
            return Program.ExitOk;
        }
        var input = FeatureFiles.Open(args.Positional[0], args.Get("key"));
        if (input is not FeatureFileInput file)
            throw new InputException($"{args.Positional[0]}: already holds statistics (mu, sigma)");
        if (file.Rows < 2)
            throw new InputException($"{args.Positional[0]}: needs at least 2 samples for a covariance, has {file.Rows}");
        using var backend = ComputeBackends.Create(args.Get("backend", "auto"), context.Notice);
        // Streamed from the file in float64 blocks: memory is O(block + D²) whatever the file's size.
        var stats = backend.ComputeStatistics(file, divisor, context.Progress.Start("statistics"));
        context.Progress.Clear();
        FeatureFiles.WriteStatistics(output, stats);
        context.Out.WriteLine($"wrote {output}: mu [{stats.Dim}], sigma [{stats.Dim}, {stats.Dim}] from {file.Rows} samples");
        return Program.ExitOk;
    }
}
