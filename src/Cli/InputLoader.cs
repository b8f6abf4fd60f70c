using System.CommandLine;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Imaging;
using GenMetrics.Models;

namespace GenMetrics.Cli;

/// <summary>
/// Turns a command-line path into a metric input: a .npy/.npz of features or of statistics, or a folder
/// (or .zip) of images, which goes through the reference preprocessing and the installed networks.
/// </summary>
internal static class InputLoader
{
    public static bool IsImageSource(string path) =>
        Directory.Exists(path) || (File.Exists(path) && path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase));

    public static MetricInput Load(string path, string? key, CommandContext context) =>
        Load(path, key, context, images: null, groups: null);

    public static MetricInput Load(string path, string? key, CommandContext context, ImageInputOptions? images, IReadOnlyList<MetricGroup>? groups)
    {
        if (IsImageSource(path)) return LoadImages(path, context, images ?? new ImageInputOptions(), groups);
        var input = FeatureFiles.Open(path, key);
        switch (input)
        {
            case StatisticsInput stats:
                if (stats.Note is { } note) context.Notice(note);
                return MetricInput.FromStatistics(stats.Statistics);
            case FeatureFileInput file:
                var matrix = file.Load(context.Progress.Start($"reading {Path.GetFileName(path)}"));
                context.Progress.Clear();
                // float64 files keep their exact values for FID's statistics; the k-NN metrics use float32.
                return MetricInput.FromFeatures(matrix, file.DType == "float64" ? file : null);
            default:
                throw new InputException($"{path}: unsupported input");
        }
    }

    /// <summary>The features the k-NN metrics (and realism) use: VGG-16 fc2 for images, the file's own otherwise.</summary>
    public static FeatureMatrix LoadKnnFeatures(string path, CommandContext context, ImageInputOptions images) =>
        Load(path, null, context, images, [MetricGroup.Pr]).KnnFeatures
            ?? throw new InputException($"{path}: holds statistics (mu, sigma) only; realism needs per-sample features");

    public static FeatureMatrix LoadFeatures(string path, string? key, CommandContext context)
    {
        var input = Load(path, key, context);
        return input.Features ?? throw new InputException($"{path}: holds statistics (mu, sigma), not per-sample features");
    }

    /// <summary>
    /// Inception pool3 features when FID or KID is asked for (or nothing was asked and it is installed),
    /// VGG-16 fc2 after ReLU (NVIDIA's and torch-fidelity's P/R features) when a k-NN metric is.
    /// </summary>
    private static MetricInput LoadImages(string path, CommandContext context, ImageInputOptions images, IReadOnlyList<MetricGroup>? groups)
    {
        var options = new ImagePipelineOptions
        {
            Mode = images.Mode,
            MaxImages = images.MaxImages,
            Strict = images.Strict,
            BatchSize = images.BatchSize,
            UseCache = images.UseCache,
        };
        var extractor = new ImageFeatureExtractor();
        string label = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        FeatureMatrix Run(IFeatureNetwork network, string what)
        {
            var features = extractor.Extract(path, options, network, context.Progress.Start($"{label}: {what} features"), context.Notice);
            context.Progress.Clear();
            return new FeatureMatrix(features.Data, features.Rows, features.Dim, path);
        }

        if (images.Network is { } custom)
        {
            // A user's own ONNX network: its features serve every metric.
            using var network = images.OpenCustomNetwork()!;
            var own = Run(network, Path.GetFileName(custom));
            return MetricInput.FromImages(path, own, own, $"{Path.GetFileName(custom)}:{images.NetworkOutput}");
        }
        var store = ModelStore.Default();
        var installed = store.List().Select(m => m.Model).ToHashSet();
        bool wantInception = groups is null ? installed.Contains(KnownModel.Inception.Id) : groups.Any(g => g is MetricGroup.Fid or MetricGroup.Kid);
        bool wantVgg = groups is null ? installed.Contains(KnownModel.Vgg16.Id) : groups.Any(g => g is MetricGroup.Pr or MetricGroup.Prdc or MetricGroup.Sym);
        if (!wantInception && !wantVgg)
            throw new InputException($"{path}: {ModelStore.ImageSourceKind(path)}, read as a set of images; images need a feature network and none is installed in {store.Directory} (run: genmetrics models install inception, and vgg16 for precision/recall), or give a .npy/.npz of features instead");
        if (wantInception) store.RequireForImages(path, KnownModel.Inception, "FID and KID");
        if (wantVgg) store.RequireForImages(path, KnownModel.Vgg16, "precision/recall, density/coverage and symmetric P/R");

        FeatureMatrix? Extract(KnownModel model, string output)
        {
            using var network = store.Open(model, output);
            return Run(network, model.Id);
        }
        var inception = wantInception ? Extract(KnownModel.Inception, "pool3") : null;
        var vgg = wantVgg ? Extract(KnownModel.Vgg16, images.KnnLayer) : null;
        return MetricInput.FromImages(path, inception, vgg);
    }
}

/// <summary>How image folders are read: the preprocessing mode of the reference tool to match, and limits.</summary>
internal sealed record ImageInputOptions(ResizeMode Mode = ResizeMode.Clean, int MaxImages = 0, bool Strict = false, int BatchSize = 32, bool UseCache = true,
    string? Network = null, string? NetworkOutput = null, int NetworkHeight = 0, int NetworkWidth = 0, string KnnLayer = "fc2_relu")
{
    /// <summary>The image-input options, fresh instances for each command that spreads them into its options.</summary>
    public static IReadOnlyList<Symbol> Specs =>
    [
        Opt.Text("mode", "image inputs: clean (clean-fid, default), legacy-pytorch (pytorch-fid), legacy-tensorflow (TTUR, StyleGAN, torch-fidelity) or none", "MODE", "clean",
            suggestions: ["clean", "legacy-pytorch", "legacy-tensorflow", "none"]),
        Opt.Int("max-images", "image inputs: use the first N images (sorted by path; default 0: all)", "N", 0, min: 0),
        Opt.Flag("strict", "image inputs: a corrupt image is an error instead of being skipped and counted"),
        Opt.Flag("no-cache", "image inputs: do not read or write the feature cache"),
        Opt.Int("batch-size", "image inputs: images per network batch", "B", 32, min: 1, max: 4096),
        Opt.Text("network", "image inputs: your own ONNX feature network ([N,3,H,W] in, [N,D] out) instead of the installed Inception/VGG-16", "FILE.onnx"),
        Opt.Text("network-output", "with --network: the output tensor whose values are the features", "NAME"),
        Opt.Text("network-size", "with --network: input height x width when the model leaves them open, e.g. 48x192", "HxW"),
    ];

    /// <summary>The network of --network / --network-output / --network-size, or null when none was given.</summary>
    public OnnxFeatureNetwork? OpenCustomNetwork()
    {
        if (Network is not { } path) return null;
        string output = NetworkOutput ?? throw new UsageException("--network needs --network-output NAME (the output tensor to use as features)");
        byte[] model = File.Exists(path) ? File.ReadAllBytes(path) : throw new InputException($"{path}: no such file");
        return new OnnxFeatureNetwork(model, output, $"{Path.GetFileNameWithoutExtension(path)}:{output}", path, NetworkHeight, NetworkWidth);
    }

    public static ImageInputOptions From(ArgumentList args)
    {
        int height = 0, width = 0;
        if (args.Get("network-size") is { } size)
        {
            var parts = size.ToLowerInvariant().Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out height) || !int.TryParse(parts[1], out width) || height < 1 || width < 1)
                throw new UsageException($"--network-size expects HxW, e.g. 48x192, got '{size}'");
        }
        return new(
            ImagePreprocessor.ParseMode(args.Get("mode")!),
            args.GetInt("max-images"),
            args.Flag("strict"),
            args.GetInt("batch-size"),
            !args.Flag("no-cache"),
            args.Get("network"),
            args.Get("network-output"),
            height,
            width);
    }
}
