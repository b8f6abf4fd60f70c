using System.CommandLine;
using GenMetrics.Generators;
using GenMetrics.Imaging;
using GenMetrics.Reports;

namespace GenMetrics.Cli.Commands;

/// <summary>
/// `genmetrics style-mix`: StyleGAN's style-mixing figure. Row r, column c shows the styles of row seed r
/// with the layers in --col-styles taken from column seed c; the top row holds the column seeds' own
/// images and the left column the row seeds', as in StyleGAN2's style_mixing.py.
/// </summary>
public sealed class StyleMixCommand : ICommand
{
    public string Name => "style-mix";
    public string Summary => "StyleGAN style-mixing grid: row seeds' styles with the chosen layers taken from column seeds.";
    public string Usage => "--generator G.json --row-seeds LIST --col-seeds LIST [--col-styles 0-6] -o FILE.png [--psi P]";
    public int Order => 58;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        CommonOptions.Generator("a StyleGAN (mapping + synthesis) generator description"),
        Opt.Text("row-seeds", "seeds of the rows", "LIST"),
        Opt.Text("col-seeds", "seeds of the columns", "LIST"),
        Opt.Text("col-styles", "style layers taken from the column seed (default 0-6, as StyleGAN2, clipped to the generator's layers)", "LIST", "0-6"),
        CommonOptions.Psi(),
        CommonOptions.TruncationCutoff(),
        CommonOptions.Output("the grid PNG to write", "FILE.png"),
        Opt.Text("video", "also a video in which the column styles blend in over time: frames in FOLDER, MP4 when ffmpeg is on the PATH", "FOLDER"),
        Opt.Int("frames", "video frames", "N", 60, min: 2, max: 100_000),
        Opt.Int("fps", "frames per second of the video", "F", 30, min: 1, max: 240),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        string generatorPath = args.Get("generator") ?? throw new UsageException("missing --generator G.json");
        var rowSeeds = SeedList.Parse(args.Get("row-seeds") ?? throw new UsageException("missing --row-seeds"), "--row-seeds");
        var colSeeds = SeedList.Parse(args.Get("col-seeds") ?? throw new UsageException("missing --col-seeds"), "--col-seeds");
        string output = args.Get("output") ?? throw new UsageException("missing -o FILE.png");
        OutputPaths.CheckFile(output, "-o", [".png"], [generatorPath]);
        OutputPaths.CheckFolder(args.Get("video"), "--video", ["frame*.png", "style-mix.mp4"], [generatorPath, output]);
        double psi = args.GetDouble("psi");
        Truncation.CheckPsi(psi);
        int? cutoff = args.GetOptionalInt("truncation-cutoff");

        using var loaded = Generator.Load(generatorPath);
        var style = loaded as StyleGanGenerator ?? throw new InputException($"{generatorPath}: style mixing needs a StyleGAN (mapping + synthesis) generator");
        var layers = SeedList.Parse(args.Get("col-styles")!, "--col-styles").Select(v => (int)Math.Min(v, int.MaxValue)).Distinct().ToArray();
        if (!args.Has("col-styles") && layers.Max() >= style.NumLayers)
        {
            // The default (StyleGAN2's 0-6) is fitted to a generator with fewer style layers; only an
            // explicit --col-styles out of range is an error.
            layers = layers.Where(l => l < style.NumLayers).ToArray();
            context.Notice($"--col-styles: default 0-6 clipped to 0-{style.NumLayers - 1} (the generator has {style.NumLayers} style layers)");
        }
        foreach (int l in layers)
            if (l >= style.NumLayers) throw new InputException($"--col-styles: layer {l} does not exist (the generator has {style.NumLayers} style layers, 0..{style.NumLayers - 1})");

        int L = style.NumLayers, W = style.StyleDim;
        float[] Styles(uint seed)
        {
            var ws = style.MapToLayers(Latents.ForSeed(seed, style.LatentDim), 1);
            Truncation.Apply(ws, 1, L, style.WAvg, psi, cutoff);
            return ws;
        }
        var (h, w) = style.ImageSize;
        RgbImage Image(float[] ws) => RgbImage.FromPlanar(ImageQuantizer.ToUInt8(style.Synthesize(ws, 1)), w, h);

        var rowStyles = rowSeeds.Select(Styles).ToArray();
        var colStyles = colSeeds.Select(Styles).ToArray();
        var columnImages = colStyles.Select(Image).ToArray();
        var rowImages = rowStyles.Select(Image).ToArray();
        var blank = new RgbImage(w, h, Enumerable.Repeat((byte)255, 3 * w * h).ToArray());

        // The grid at blend t: the chosen layers are (1 − t)·row + t·column; t = 1 is StyleGAN's figure.
        RgbImage Grid(double t)
        {
            var tiles = new List<RgbImage> { blank };
            tiles.AddRange(columnImages);
            for (int r = 0; r < rowSeeds.Length; r++)
            {
                tiles.Add(rowImages[r]);
                for (int c = 0; c < colSeeds.Length; c++)
                {
                    var mixed = (float[])rowStyles[r].Clone();
                    foreach (int l in layers)
                    {
                        var blended = LatentPath.Lerp(rowStyles[r].AsSpan(l * W, W), colStyles[c].AsSpan(l * W, W), t);
                        blended.CopyTo(mixed.AsSpan(l * W, W));
                    }
                    tiles.Add(Image(mixed));
                }
            }
            return ImageGrid.Compose(tiles, columns: colSeeds.Length + 1);
        }

        PngWriter.Write(output, Grid(1.0));
        context.Out.WriteLine($"wrote {output}: {rowSeeds.Length} row seeds x {colSeeds.Length} column seeds, layers {string.Join(",", layers)} from the columns");
        if (args.Get("video") is { } folder)
        {
            int frames = args.GetInt("frames");
            Directory.CreateDirectory(folder);
            var progress = context.Progress.Start("style-mix video");
            for (int f = 0; f < frames; f++)
            {
                PngWriter.Write(Path.Combine(folder, $"frame{f:D4}.png"), Grid(f / (frames - 1.0)));
                progress.Report((f + 1.0) / frames);
            }
            context.Progress.Clear();
            context.Out.WriteLine($"wrote {frames} frames to {folder} (the column styles blend in from frame 0 to the last)");
            Video.Encode(folder, Path.Combine(folder, "style-mix.mp4"), requested: true, args.GetInt("fps"), context);
        }
        return Program.ExitOk;
    }
}
