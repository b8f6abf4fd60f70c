using System.CommandLine;
using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Imaging;
using GenMetrics.Metrics;

namespace GenMetrics.Cli.Commands;

public sealed class RealismCommand : ICommand
{
    public string Name => "realism";
    public string Summary => "Per-sample realism score of every generated sample against the real manifold (Kynkäänniemi et al. 2019), written as a float32 .npy.";
    public string Usage => "REAL FAKE -o SCORES.npy [options]   (feature files, or folders/zips of images: VGG-16 fc2_relu)";
    public int Order => 30;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("REAL", "the real set: features, or a folder / .zip / .txt list of images", optional: true),
        Opt.Positional("FAKE", "the generated set: features, or a folder / .zip / .txt list of images", optional: true),
        ImageInputOptions.ListSpec,
        CommonOptions.Output("the .npy to write (one float32 score per generated sample, in input order)", "SCORES.npy"),
        CommonOptions.K(),
        CommonOptions.Key(),
        CommonOptions.Backend(),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        var inputs = args.Inputs(2, "list", "REAL FAKE");
        string output = args.Get("output") ?? throw new UsageException("missing -o SCORES.npy");
        OutputPaths.CheckFile(output, "-o", [".npy"], inputs);
        int k = args.GetInt("k");
        var images = ImageInputOptions.From(args);
        var real = InputLoader.LoadFeatures(inputs[0], args.Get("key"), context, images, FeatureLayer.ForRealism);
        var fake = InputLoader.LoadFeatures(inputs[1], args.Get("key"), context, images, FeatureLayer.ForRealism);
        if (real.Dim != fake.Dim)
            throw new InputException($"dimension mismatch: {real.Name} has {real.Dim} features per sample, {fake.Name} has {fake.Dim}");
        // Created once the inputs are known to be good: the CPU-fallback notice belongs to the computation.
        using var backend = ComputeBackends.Create(args.Get("backend")!, context.NoticeWhenComputing);
        var scores = Realism.Scores(real, fake, backend, k, progress: context.Progress.Start("realism")).Scores;
        context.Progress.Clear();
        OutputPaths.Save(output, path => FeatureFiles.WriteNpy(path, scores, scores.Length), context);
        var sorted = scores.Where(float.IsFinite).Order().ToArray();
        string median = sorted.Length > 0 ? sorted[sorted.Length / 2].ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture) : "n/a";
        context.Out.WriteLine($"wrote {output}: {scores.Length} realism scores (k = {k}; median {median}; > 1 means inside the real manifold)");
        return Program.ExitOk;
    }
}
