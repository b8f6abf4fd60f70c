using System.CommandLine;
using GenMetrics.Features;
using GenMetrics.Imaging;

namespace GenMetrics.Cli.Commands;

/// <summary>`genmetrics features INPUT -o OUT.npy`: the engine's image pipeline, its features written as a float32 .npy.</summary>
public sealed class FeaturesCommand : ICommand
{
    public string Name => "features";
    public string Summary => "Features of a folder or zip of images through a network layer (default Inception pool3), written as a float32 [N, D] .npy; rows follow the sorted file order (an image list's: the listed order).";
    public string Usage => "IMAGES|--list FILES.txt -o OUT.npy [--network inception|vgg16|FILE.onnx] [--layer NAME] [--mode MODE] [options]";
    public int Order => 15;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("IMAGES", "a folder or .zip of images, or a .txt image list (see --list)", optional: true),
        ImageInputOptions.ListSpec,
        CommonOptions.Output("the .npy to write (float32 [N, D])", "OUT.npy"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
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
}
