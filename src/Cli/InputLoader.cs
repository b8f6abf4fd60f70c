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
    public static bool IsImageSource(string path) => ImageFeatures.IsImageSource(path);

    public static MetricInput Load(string path, string? key, CommandContext context) =>
        Load(path, key, context, images: null, groups: null);

    public static MetricInput Load(string path, string? key, CommandContext context, ImageInputOptions? images, IReadOnlyList<MetricGroup>? groups)
    {
        if (IsImageSource(path)) return LoadImages(path, context, images ?? new ImageInputOptions(), groups);
        return FromOpened(path, FeatureFiles.Open(path, key), context);
    }

    /// <summary>
    /// The real and the generated input, as two <see cref="Load(string, string?, CommandContext, ImageInputOptions?, IReadOnlyList{MetricGroup}?)"/>
    /// calls would give them. When neither is an image source, the second file is opened on another thread
    /// while the first is read: opening a statistics file reads and checks all of it (2 x 32 MiB and two PSD
    /// checks for 2048-d FID statistics, most of a CLI FID's time), a feature file only its header. Errors
    /// and notices come in the same order as sequential loading: the first input's error wins, and the
    /// second's PSD check runs after the first input is complete.
    /// </summary>
    public static (MetricInput Real, MetricInput Fake) LoadPair(string real, string fake, string? key, CommandContext context, ImageInputOptions images, IReadOnlyList<MetricGroup>? groups)
    {
        if (IsImageSource(real) || IsImageSource(fake))
            return (Load(real, key, context, images, groups), Load(fake, key, context, images, groups));
        // The second file's PSD check (a Cholesky on every core) is deferred and run here after the first's:
        // the two reads overlap, the checks do not, and they share one pooled D x D work buffer.
        var second = Task.Run(() => (Input: FeatureFiles.OpenDeferringCovarianceCheck(fake, key, out var check), Check: check));
        MetricInput first;
        try
        {
            first = FromOpened(real, FeatureFiles.Open(real, key), context);
        }
        catch
        {
            // The first input's error is the one reported; the second's work is waited for, not left running.
            try { second.Wait(); } catch (AggregateException) { }
            throw;
        }
        var (opened, pendingCheck) = second.GetAwaiter().GetResult();
        pendingCheck?.Invoke();
        return (first, FromOpened(fake, opened, context));
    }

    private static MetricInput FromOpened(string path, FeatureInput input, CommandContext context)
    {
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

    /// <summary>
    /// Per-sample features: a feature file as it is, or a folder/zip through the user's --network/--layer,
    /// else through <paramref name="standard"/> (e.g. Inception logits_unbiased for IS).
    /// </summary>
    public static FeatureMatrix LoadFeatures(string path, string? key, CommandContext context, ImageInputOptions images, FeatureLayer standard)
    {
        if (!IsImageSource(path)) return LoadFeatures(path, key, context);
        try
        {
            var layer = images.CustomLayer ?? standard;
            var features = ImageFeatures.Extract(path, layer, images.Pipeline, context.Progress.Start($"{Path.GetFileName(Path.TrimEndingDirectorySeparator(path))}: {layer} features"), context.Notice).Features;
            return new FeatureMatrix(features.Data, features.Rows, features.Dim, path);
        }
        finally
        {
            context.Progress.Clear();
        }
    }

    public static FeatureMatrix LoadFeatures(string path, string? key, CommandContext context)
    {
        var input = Load(path, key, context);
        return input.Features ?? throw new InputException($"{path}: holds statistics (mu, sigma), not per-sample features");
    }

    /// <summary>The engine's image pipeline: which network serves which metric is FeatureLayer.For's decision.</summary>
    private static MetricInput LoadImages(string path, CommandContext context, ImageInputOptions images, IReadOnlyList<MetricGroup>? groups)
    {
        try
        {
            return ImageFeatures.ForMetrics(path, groups, images.Pipeline, images.CustomLayer, context.Progress.Start, context.Notice, knnLayer: images.KnnLayer);
        }
        finally
        {
            context.Progress.Clear();
        }
    }
}

/// <summary>How image folders are read: the preprocessing mode of the reference tool to match, and limits.</summary>
internal sealed record ImageInputOptions(ResizeMode Mode = ResizeMode.Clean, int MaxImages = 0, bool Strict = false, int BatchSize = 32, bool UseCache = true,
    string? Network = null, string? NetworkOutput = null, int NetworkHeight = 0, int NetworkWidth = 0, string? Layer = null,
    InputNormalization? Normalization = null, NetworkDevice? Device = null, bool CenterCrop = false, string KnnLayer = "fc2_relu")
{
    /// <summary>
    /// --list FILES.txt: an image list in place of a folder (one path per line, relative to the list's
    /// folder or absolute; rows in the listed order). Only commands whose inputs may be images declare it.
    /// </summary>
    public static Option ListSpec => Opt.Repeatable("list", "an image list in place of an input folder: one image path per line, relative to the list's folder or absolute; rows keep the listed order (repeat for each input; inputs are taken in the order written)", "FILES.txt");

    /// <summary>The image-input options, fresh instances for each command that spreads them into its options.</summary>
    public static IReadOnlyList<Symbol> Specs =>
    [
        Opt.Text("mode", "image inputs: clean (clean-fid, default), legacy-pytorch (pytorch-fid), legacy-tensorflow (TTUR, StyleGAN, torch-fidelity) or none", "MODE", "clean",
            suggestions: ["clean", "legacy-pytorch", "legacy-tensorflow", "none"]),
        Opt.Int("max-images", "image inputs: use the first N images (sorted by path; default 0: all)", "N", 0, min: 0),
        Opt.Flag("strict", "image inputs: a corrupt image is an error instead of being skipped and counted"),
        Opt.Flag("no-cache", "image inputs: do not read or write the feature cache"),
        Opt.Int("batch-size", "image inputs: images per network batch", "B", 32, min: 1, max: 4096),
        Opt.Text("network", "image inputs: inception, vgg16 or your own ONNX feature network ([N,3,H,W] in, [N,D] out), for every metric instead of the standard ones", "NAME|FILE.onnx"),
        Opt.Text("layer", "with --network: the output whose values are the features (pool3, logits_unbiased, fc2, fc2_relu, or an ONNX output name)", "NAME"),
        Opt.Text("network-output", "with --network: the output tensor whose values are the features", "NAME"),
        Opt.Text("normalize", "image inputs: the network's input values instead of the mode's: 2x-1, tf ((x-128)/128), imagenet, clip, none (0..255) or mean=R,G,B:std=R,G,B (on [0,1])", "NAME"),
        Opt.Text("resize", "image inputs: stretch (to the network's size, as the FID tools) or center-crop (keep the aspect ratio, cover, take the centre, as CLIP)", "stretch|center-crop", "stretch",
            suggestions: ["stretch", "center-crop"]),
        Opt.Text("device", "image inputs: where the feature network runs: auto (CUDA when ONNX Runtime's CUDA provider loads, else the CPU with a notice), cpu, cuda or cuda:N", "DEVICE", "auto",
            suggestions: ["auto", "cpu", "cuda"]),
        Opt.Text("network-precision", "image inputs on CUDA: fp32 (TF32 off, features agree with the CPU's) or tf32 (faster, less exact)", "fp32|tf32", "fp32",
            suggestions: ["fp32", "tf32"]),
        Opt.Text("network-size", "with --network: input height x width when the model leaves them open, e.g. 48x192", "HxW"),
    ];

    /// <summary>
    /// An image-only option (<see cref="Specs"/>) given explicitly when none of <paramref name="inputs"/> is an
    /// image source (all are feature or statistics files) would do nothing: a usage error naming it. With one
    /// image input among them the options apply to it, as they say.
    /// </summary>
    public static void RefuseWithoutImages(ArgumentList args, IReadOnlyList<string> inputs)
    {
        if (inputs.Any(InputLoader.IsImageSource)) return;
        foreach (var option in Specs.OfType<Option>())
        {
            string name = option.Name[2..];
            if (args.Declares(name) && args.Has(name))
                throw new UsageException($"{option.Name} applies to image inputs (folders, .zip files, image lists) only; {(inputs.Count == 1 ? "the input is a feature or statistics file" : "the inputs are feature or statistics files")}");
        }
    }

    /// <summary>The user's own network of --network / --network-output / --network-size, or null when none was given.</summary>
    public FeatureLayer? CustomLayer => Network is { } path
        ? FeatureLayer.Parse(path, Layer ?? NetworkOutput, NetworkHeight, NetworkWidth)
        : null;

    /// <summary>
    /// How the stderr table names the user's own network ("net.onnx:softmax", "inception:logits"), the way the
    /// engine names it for metrics; null without --network.
    /// </summary>
    public string? OwnNetworkName => CustomLayer is { } layer ? $"{Path.GetFileName(layer.Network)}:{layer.Layer}{(layer.IsOnlyOutput ? " (its only output)" : "")}" : null;

    /// <summary>The k-NN/realism network: the user's own, else <see cref="FeatureLayer.ForRealism"/>.</summary>
    public OnnxFeatureNetwork OpenKnnNetwork(Action<string>? notice = null) => (CustomLayer ?? FeatureLayer.ForRealism).Open(device: Device, notice: notice);

    /// <summary>The engine pipeline's options.</summary>
    public ImagePipelineOptions Pipeline => new() { Mode = Mode, MaxImages = MaxImages, Strict = Strict, BatchSize = BatchSize, UseCache = UseCache, Normalization = Normalization, Device = Device, CenterCrop = CenterCrop };

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
            width,
            args.Get("layer"),
            args.Get("normalize") is { } normalize ? InputNormalization.Parse(normalize) : null,
            NetworkDevice.Parse(args.Get("device")!, args.Get("network-precision")!),
            args.Get("resize") switch
            {
                "stretch" => false,
                "center-crop" => true,
                var other => throw new UsageException($"--resize: unknown '{other}' (stretch or center-crop)"),
            });
    }
}
