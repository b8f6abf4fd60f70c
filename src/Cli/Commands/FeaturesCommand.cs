using System.CommandLine;
using GenMetrics.Features;
using GenMetrics.Generators;
using GenMetrics.Imaging;

namespace GenMetrics.Cli.Commands;

/// <summary>`genmetrics features INPUT -o OUT.npy`: the engine's image pipeline, its features written as a float32 .npy.</summary>
public sealed class FeaturesCommand : ICommand
{
    public string Name => "features";
    public string Summary => "Features of a folder or zip of images, an image list, or an ONNX generator's samples through a network layer (default Inception pool3), written as a float32 [N, D] .npy; rows follow the sorted file order (an image list's: the listed order; a generator's: the seed order).";
    public string Usage => "(IMAGES | --list FILES.txt | --generator G.json --seeds LIST [--psi P]) -o OUT.npy [--network inception|vgg16|FILE.onnx] [--layer NAME] [--mode MODE] [options]";
    public int Order => 15;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("IMAGES", "a folder or .zip of images, or a .txt image list (see --list)", optional: true),
        ImageInputOptions.ListSpec,
        CommonOptions.Generator("an ONNX generator description instead of images: the features of its samples for --seeds (quantised to uint8 as StyleGAN2-ADA does, then the mode's preprocessing)"),
        Opt.Text("seeds", "with --generator: seeds and inclusive ranges, e.g. 0-49999 or 1,2,5-100; one row per seed, in this order", "LIST"),
        CommonOptions.Psi("with --generator: truncation psi in [-1, 2] (default 1: none)"),
        CommonOptions.TruncationCutoff(),
        Opt.OptionalInt("class", "with --generator: class index for a conditional generator", "C", min: 0),
        CommonOptions.Output("the .npy to write (float32 [N, D])", "OUT.npy"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        if (args.Get("generator") is { } generatorPath) return RunGenerator(generatorPath, args, context);
        foreach (var name in new[] { "seeds", "class", "truncation-cutoff", "psi" })
            if (args.Has(name)) throw new UsageException($"--{name} needs --generator G.json");
        string input = args.Inputs(1, "list", "IMAGES")[0];
        string output = args.Get("output") ?? throw new UsageException("missing -o OUT.npy");
        OutputPaths.CheckFile(output, "-o", [".npy"], [input]);
        if (!InputLoader.IsImageSource(input))
            throw new InputException($"{input}: not a folder, .zip or .txt list of images{(File.Exists(input) || Directory.Exists(input) ? "" : " (no such file or folder)")}");
        var images = ImageInputOptions.From(args);
        var layer = images.CustomLayer ?? FeatureLayer.InceptionPool3;
        var features = InputLoader.LoadFeatures(input, null, context, images, layer);
        OutputPaths.Save(output, path => FeatureFiles.WriteNpy(path, features.Data, features.Rows, features.Dim), context);
        context.Out.WriteLine($"wrote {output}: {features.Rows} x {features.Dim} float32 ({layer}, mode {ImagePreprocessor.ModeName(images.Mode)})");
        return Program.ExitOk;
    }

    /// <summary>--generator G.json --seeds LIST: the generator's samples through the network, without writing images.</summary>
    static int RunGenerator(string generatorPath, ArgumentList args, CommandContext context)
    {
        if (args.Positional.Count > 0 || args.Has("list"))
            throw new UsageException("give images (a folder, zip or --list) or --generator, not both");
        string seedText = args.Get("seeds") ?? throw new UsageException("--generator needs --seeds LIST (e.g. 0-49999)");
        string output = args.Get("output") ?? throw new UsageException("missing -o OUT.npy");
        OutputPaths.CheckFile(output, "-o", [".npy"], [generatorPath]);
        var seeds = SeedList.Parse(seedText);
        double psi = args.GetDouble("psi");
        Truncation.CheckPsi(psi);
        var options = new GenerationOptions(args.GetOptionalInt("truncation-cutoff"), args.GetOptionalInt("class"));
        var images = ImageInputOptions.From(args);
        var layer = images.CustomLayer ?? FeatureLayer.InceptionPool3;
        using var generator = Generator.Load(generatorPath);
        generator.CheckRequest(psi, options);
        using var network = layer.Open(device: images.Device, notice: context.Notice);
        FeatureMatrix features;
        try
        {
            features = GeneratedFeatures.Extract(generator, seeds, psi, options, [network], images.Mode, images.BatchSize,
                context.Progress.Start($"{Path.GetFileName(generatorPath)}: {layer} features"), Path.GetFileName(generatorPath),
                images.Normalization, images.CenterCrop)[0];
        }
        finally
        {
            context.Progress.Clear();
        }
        OutputPaths.Save(output, path => FeatureFiles.WriteNpy(path, features.Data, features.Rows, features.Dim), context);
        context.Out.WriteLine($"wrote {output}: {features.Rows} x {features.Dim} float32 ({layer}, mode {ImagePreprocessor.ModeName(images.Mode)}, {seeds.Length} seeds, psi {psi.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        return Program.ExitOk;
    }
}
