using System.CommandLine;
using GenMetrics.Generators;
using GenMetrics.Imaging;
using GenMetrics.Reports;

namespace GenMetrics.Cli.Commands;

/// <summary>`genmetrics generate`: images for a list of seeds, one PNG per seed (seed0042.png) or one grid.</summary>
public sealed class GenerateCommand : ICommand
{
    public string Name => "generate";
    public string Summary => "Images from an ONNX generator for a list of seeds (numpy-compatible latents, as StyleGAN's scripts), as PNGs or one grid.";
    public string Usage => "--generator G.json --seeds 1-8 -o DIR [options]";
    public int Order => 50;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        CommonOptions.Generator(),
        Opt.Text("seeds", "seeds and inclusive ranges, e.g. 1,2,5-100 (0..4294967295)", "LIST"),
        CommonOptions.Psi("truncation psi in [-1, 2] (default 1: none)"),
        CommonOptions.TruncationCutoff(),
        Opt.OptionalInt("class", "class index for a conditional generator", "C", min: 0),
        Opt.Flag("grid", "write one grid image (grid.png) instead of one PNG per seed"),
        CommonOptions.Batch(),
        Opt.Int("threads", "ONNX Runtime threads (default 0: its choice)", "N", 0, min: 0),
        CommonOptions.Output("folder for the PNGs (created when missing)", "DIR"),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        string generatorPath = args.Get("generator") ?? throw new UsageException("missing --generator G.json");
        string seedText = args.Get("seeds") ?? throw new UsageException("missing --seeds LIST");
        string output = args.Get("output") ?? throw new UsageException("missing -o DIR");
        OutputPaths.CheckFolder(output, "-o", ["seed*.png", "grid.png"], [generatorPath]);
        var seeds = SeedList.Parse(seedText);
        bool grid = args.Flag("grid");
        if (!grid && seeds.Distinct().Count() < seeds.Length)
        {
            // One file per seed: a repeated seed would only overwrite its own file (a grid shows it twice).
            var distinct = seeds.Distinct().ToArray();
            context.Notice($"--seeds: {seeds.Length - distinct.Length} repeated seed(s) left out (one file per seed; --grid shows repeats)");
            seeds = distinct;
        }
        double psi = args.GetDouble("psi");
        Truncation.CheckPsi(psi);
        int? cutoff = args.GetOptionalInt("truncation-cutoff");
        int? classIndex = args.GetOptionalInt("class");
        int batch = args.GetInt("batch");
        int threads = args.GetInt("threads");

        using var generator = Generator.Load(generatorPath, threads);
        generator.CheckRequest(psi, new GenerationOptions(cutoff, classIndex));
        var (h, w) = generator.ImageSize;
        try
        {
            Directory.CreateDirectory(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(output, $"cannot create the output folder: {IoErrors.Describe(e)}");
        }
        var options = new GenerationOptions(cutoff, classIndex);
        int imageBytes = 3 * h * w;
        if (grid && (long)seeds.Length * imageBytes > Array.MaxLength)
            throw new InputException($"a grid of {seeds.Length} images of {h}x{w} does not fit in memory: ask for fewer seeds");
        var tiles = grid ? new List<RgbImage>(seeds.Length) : null;
        var progress = context.Progress.Start("generate");
        for (int start = 0; start < seeds.Length; start += batch)
        {
            int n = Math.Min(batch, seeds.Length - start);
            var chunk = seeds.AsSpan(start, n);
            var z = Latents.ForSeeds(chunk, generator.LatentDim);
            var pixels = ImageQuantizer.ToUInt8(generator.Generate(z, n, psi, options));
            for (int i = 0; i < n; i++)
            {
                var image = RgbImage.FromPlanar(pixels.AsSpan(i * imageBytes, imageBytes), w, h);
                if (tiles is not null) tiles.Add(image);
                else PngWriter.Write(Path.Combine(output, FileNameFor(chunk[i])), image);
            }
            progress.Report((double)(start + n) / seeds.Length);
        }
        context.Progress.Clear();
        string truncation = psi == 1.0 ? "no truncation" : $"psi {psi}" + (cutoff is { } c ? $" on the first {c} layers" : "");
        if (tiles is not null)
        {
            var (columns, rows) = ImageGrid.Shape(tiles.Count);
            string path = Path.Combine(output, "grid.png");
            PngWriter.Write(path, ImageGrid.Compose(tiles));
            context.Out.WriteLine($"wrote {path}: {seeds.Length} seeds in {columns} columns x {rows} rows of {w}x{h} images ({truncation})");
        }
        else
        {
            context.Out.WriteLine($"wrote {seeds.Length} image{(seeds.Length == 1 ? "" : "s")} of {w}x{h} to {output} ({FileNameFor(seeds[0])}{(seeds.Length > 1 ? $" .. {FileNameFor(seeds[^1])}" : "")}; {truncation})");
        }
        return Program.ExitOk;
    }

    /// <summary>seed0042.png, as StyleGAN's generate.py names them (at least four digits).</summary>
    public static string FileNameFor(uint seed) => $"seed{seed:D4}.png";
}
