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

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("generator", "the generator description (generator.json; see docs/generators.md)", ValueName: "G.json"),
        new("seeds", "seeds and inclusive ranges, e.g. 1,2,5-100 (0..4294967295)", ValueName: "LIST"),
        new("psi", "truncation psi in [-1, 2] (default 1: none)", ValueName: "PSI"),
        new("truncation-cutoff", "truncate only the first N style layers (stylegan generators)", ValueName: "N"),
        new("class", "class index for a conditional generator", ValueName: "C"),
        OptionSpec.Flag("grid", "write one grid image (grid.png) instead of one PNG per seed"),
        new("batch", "images per generator call (default 16)", ValueName: "N"),
        new("threads", "ONNX Runtime threads (default: its choice)", ValueName: "N"),
        new("output", "folder for the PNGs (created when missing)", ValueName: "DIR", Short: 'o'),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        args.RequirePositional();
        string generatorPath = args.Get("generator") ?? throw new UsageException("missing --generator G.json");
        string seedText = args.Get("seeds") ?? throw new UsageException("missing --seeds LIST");
        string output = args.Get("output") ?? throw new UsageException("missing -o DIR");
        OutputPaths.CheckFolder(output, "-o", ["seed*.png", "grid.png"], [generatorPath]);
        var seeds = SeedList.Parse(seedText);
        double psi = args.GetDouble("psi", 1.0);
        Truncation.CheckPsi(psi);
        int? cutoff = args.Has("truncation-cutoff") ? args.GetInt("truncation-cutoff", 0, min: 0) : null;
        int? classIndex = args.Has("class") ? args.GetInt("class", 0, min: 0) : null;
        int batch = args.GetInt("batch", 16, min: 1, max: 4096);
        int threads = args.GetInt("threads", 0, min: 0);
        bool grid = args.Flag("grid");

        using var generator = Generator.Load(generatorPath, threads);
        var (h, w) = generator.ImageSize;
        try
        {
            Directory.CreateDirectory(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(output, $"cannot create the output folder: {e.Message}");
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
            context.Out.WriteLine($"wrote {seeds.Length} images of {w}x{h} to {output} ({FileNameFor(seeds[0])}{(seeds.Length > 1 ? $" .. {FileNameFor(seeds[^1])}" : "")}; {truncation})");
        }
        return Program.ExitOk;
    }

    /// <summary>seed0042.png, as StyleGAN's generate.py names them (at least four digits).</summary>
    public static string FileNameFor(uint seed) => $"seed{seed:D4}.png";
}
