using System.CommandLine;
using System.Globalization;
using System.Text;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Generators;
using GenMetrics.Imaging;
using GenMetrics.Metrics;
using GenMetrics.Models;
using GenMetrics.Reports;

namespace GenMetrics.Cli.Commands;

/// <summary>
/// `genmetrics rank`: the realism score (Kynkäänniemi et al. 2019, kynkaat variant with its percentile
/// clamp) of every generated sample or image against the real manifold, and the paper's teaser figure:
/// grids of the most and the least realistic samples.
/// </summary>
public sealed class RankCommand : ICommand
{
    private const int TileSize = 128;

    public string Name => "rank";
    public string Summary => "Rank generated samples (or images) by realism score against a real set; write the scores and grids of the most and least realistic.";
    public string Usage => "(--generator G.json [--n 1000] | --images DIR) --real REAL -o DIR [--top 25] [options]";
    public int Order => 56;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        CommonOptions.Generator("an ONNX generator description (samples are seeds 0..N-1)"),
        Opt.Text("images", "a folder or .zip of images to rank instead of a generator", "DIR"),
        Opt.Text("real", "the real set: .npy/.npz features (VGG-16 fc2 for images) , a folder / .zip of images or a .txt image list", "REAL"),
        Opt.Int("n", "generated samples (default 1000, as in the paper's experiment)", "N", 1000, min: 1),
        CommonOptions.Psi("truncation psi for the generator"),
        CommonOptions.TruncationCutoff(),
        Opt.Int("top", "images in each grid", "T", 25, min: 1),
        CommonOptions.K("neighbourhood size of the real radii", Realism.DefaultK),
        CommonOptions.Batch(),
        CommonOptions.Output("folder for scores.npy, ranking.tsv, most_realistic.png and least_realistic.png", "DIR"),
        CommonOptions.Backend(),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        string? generatorPath = args.Get("generator");
        string? imagesPath = args.Get("images");
        if ((generatorPath is null) == (imagesPath is null)) throw new UsageException("give exactly one of --generator and --images");
        string realPath = args.Get("real") ?? throw new UsageException("missing --real REAL");
        string output = args.Get("output") ?? throw new UsageException("missing -o DIR");
        OutputPaths.CheckFolder(output, "-o", ["scores.npy", "ranking.tsv", "most_realistic.png", "least_realistic.png"], [generatorPath, imagesPath, realPath]);
        int n = args.GetInt("n");
        double psi = args.GetDouble("psi");
        Truncation.CheckPsi(psi);
        int? cutoff = args.GetOptionalInt("truncation-cutoff");
        int top = args.GetInt("top");
        int k = args.GetInt("k");
        int batch = args.GetInt("batch");
        var images = ImageInputOptions.From(args);
        Directory.CreateDirectory(output);

        var real = InputLoader.LoadKnnFeatures(realPath, context, images);
        using var network = OpenNetwork(images);

        FeatureMatrix fake;
        string[] labels;
        Func<int, RgbImage> imageOf;
        IGenerator? generator = null;
        ImageCollection? collection = null;
        try
        {
            if (generatorPath is not null)
            {
                generator = Generator.Load(generatorPath);
                generator.CheckRequest(psi, new GenerationOptions(cutoff));
                var seeds = Enumerable.Range(0, n).Select(i => (uint)i).ToArray();
                fake = GeneratedFeatures.Extract(generator, seeds, psi, new GenerationOptions(cutoff), [network], images.Mode, batch, context.Progress.Start("generating"), Path.GetFileName(generatorPath), images.Normalization)[0];
                labels = seeds.Select(s => GenerateCommand.FileNameFor(s)).ToArray();
                var g = generator;
                imageOf = i =>
                {
                    var (h, w) = g.ImageSize;
                    var pixels = ImageQuantizer.ToUInt8(g.Generate(Latents.ForSeed(seeds[i], g.LatentDim), 1, psi, new GenerationOptions(cutoff)));
                    return RgbImage.FromPlanar(pixels, w, h);
                };
            }
            else
            {
                var options = images.Pipeline;
                var extracted = new ImageFeatureExtractor().ExtractDetailed(imagesPath!, options, network, context.Progress.Start("features"), context.Notice);
                fake = extracted.Features;
                labels = [.. extracted.RelativePaths];
                collection = ImageCollection.Open(imagesPath!, StbImageDecoder.Instance.Extensions, images.MaxImages);
                var byPath = collection.Entries.ToDictionary(e => e.RelativePath, StringComparer.Ordinal);
                var c = collection;
                imageOf = i => StbImageDecoder.Instance.Decode(c.ReadBytes(byPath[labels[i]]), c.DisplayName(byPath[labels[i]]));
            }
            context.Progress.Clear();
            if (real.Dim != fake.Dim)
                throw new InputException($"dimension mismatch: {realPath} has {real.Dim} features per sample, the generated set has {fake.Dim}");

            // Created once the inputs are read: the CPU-fallback notice belongs to the computation.
            using var backend = ComputeBackends.Create(args.Get("backend")!, context.NoticeWhenComputing);
            var scores = Realism.Scores(real, fake, backend, k, progress: context.Progress.Start("realism")).Scores;
            context.Progress.Clear();
            FeatureFiles.WriteNpy(Path.Combine(output, "scores.npy"), scores, scores.Length);
            // Highest first; ties keep input order so the ranking is deterministic.
            var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
            var tsv = new StringBuilder("rank\tsample\trealism\n");
            for (int r = 0; r < order.Length; r++)
                tsv.Append(CultureInfo.InvariantCulture, $"{r + 1}\t{labels[order[r]]}\t{scores[order[r]].ToString("R", CultureInfo.InvariantCulture)}\n");
            AtomicFile.WriteAllText(Path.Combine(output, "ranking.tsv"), tsv.ToString());

            int t = Math.Min(top, order.Length);
            var thumbnail = new ImagePreprocessor(ResizeMode.Clean, TileSize);
            RgbImage Tile(int i) => Thumbnail(thumbnail, imageOf(i), labels[i]);
            PngWriter.Write(Path.Combine(output, "most_realistic.png"), ImageGrid.Compose(order.Take(t).Select(Tile).ToList(), padding: 2));
            PngWriter.Write(Path.Combine(output, "least_realistic.png"), ImageGrid.Compose(order.Reverse().Take(t).Select(Tile).ToList(), padding: 2));
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ranked {scores.Length} samples by realism (k = {k}): best {scores[order[0]]:0.0000} ({labels[order[0]]}), worst {scores[order[^1]]:0.0000} ({labels[order[^1]]})"));
            context.Out.WriteLine($"wrote scores.npy, ranking.tsv, most_realistic.png and least_realistic.png ({t} each) to {output}");
        }
        finally
        {
            generator?.Dispose();
            collection?.Dispose();
        }
        return Program.ExitOk;
    }

    /// <summary>A tile for the grid: PIL-bicubic resize to a fixed size (clean mode), back to bytes.</summary>
    private static RgbImage Thumbnail(ImagePreprocessor clean, RgbImage image, string name)
    {
        var planes = clean.Process(image, name); // (x − 128) / 128 after the clean resize and clip
        int plane = TileSize * TileSize;
        var chw = new byte[3 * plane];
        for (int i = 0; i < chw.Length; i++) chw[i] = (byte)Math.Clamp(Math.Round(planes[i] * 128f + 128f), 0, 255);
        return RgbImage.FromPlanar(chw, TileSize, TileSize);
    }

    private static IFeatureNetwork OpenNetwork(ImageInputOptions images) =>
        images.OpenKnnNetwork();
}
