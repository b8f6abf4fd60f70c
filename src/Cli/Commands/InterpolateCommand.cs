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
/// `genmetrics interpolate`: frames along a path through the latents of several seeds (z or, for StyleGAN
/// generators, w), the realism score of every frame against a real set plotted along the path, and an MP4
/// when ffmpeg is on the PATH.
/// </summary>
public sealed class InterpolateCommand : ICommand
{
    public string Name => "interpolate";
    public string Summary => "Interpolate between the latents of seeds (z or w), write the frames, their realism along the path, and an MP4 when ffmpeg is available.";
    public string Usage => "--generator G.json --seeds A,B[,C...] -o DIR [--steps 60] [--space z|w] [--slerp] [--real REAL] [options]";
    public int Order => 57;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        CommonOptions.Generator("the generator description"),
        Opt.Text("seeds", "the seeds to pass through, in order (at least 2)", "LIST"),
        Opt.Int("steps", "frames per segment between two seeds", "S", 60, min: 1, max: 100_000),
        Opt.Text("space", "z (default) or w (StyleGAN generators: interpolate the mapped styles)", "z|w", "z", suggestions: ["z", "w"]),
        Opt.Flag("slerp", "spherical interpolation in z (default linear)"),
        CommonOptions.Psi(),
        CommonOptions.TruncationCutoff(),
        Opt.Text("real", "real features or images: the realism score of every frame is computed and plotted", "REAL"),
        Opt.Text("video", "also write this MP4 (needs ffmpeg on the PATH; default DIR/interpolation.mp4 when ffmpeg exists)", "FILE.mp4"),
        Opt.Int("fps", "frames per second of the video", "F", 30, min: 1, max: 240),
        CommonOptions.Output("folder for frame0000.png ..., realism.tsv and realism.png/svg", "DIR"),
        CommonOptions.Backend(),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        string generatorPath = args.Get("generator") ?? throw new UsageException("missing --generator G.json");
        var seeds = SeedList.Parse(args.Get("seeds") ?? throw new UsageException("missing --seeds A,B"));
        if (seeds.Length < 2) throw new InputException("--seeds: interpolation needs at least 2 seeds");
        int steps = args.GetInt("steps");
        string space = args.Get("space")!.ToLowerInvariant();
        if (space is not ("z" or "w")) throw new UsageException($"--space expects z or w, got '{space}'");
        bool slerp = args.Flag("slerp");
        if (slerp && space == "w") throw new UsageException("--slerp applies to z only (w is interpolated linearly, as in StyleGAN)");
        double psi = args.GetDouble("psi");
        Truncation.CheckPsi(psi);
        int? cutoff = args.GetOptionalInt("truncation-cutoff");
        int fps = args.GetInt("fps");
        string output = args.Get("output") ?? throw new UsageException("missing -o DIR");
        OutputPaths.CheckFolder(output, "-o", ["frame*.png", "realism.tsv", "realism.png", "realism.svg"], [generatorPath, args.Get("real")]);
        OutputPaths.CheckFile(args.Get("video"), "--video", [".mp4"], [generatorPath, args.Get("real")]);
        var images = ImageInputOptions.From(args);

        using var generator = Generator.Load(generatorPath);
        var style = generator as StyleGanGenerator;
        if (space == "w" && style is null) throw new InputException($"{generatorPath}: --space w needs a StyleGAN (mapping + synthesis) generator");

        // Frames: `steps` per segment, then the last seed itself.
        var frames = new List<RgbImage>();
        var (h, w) = generator.ImageSize;
        var latents = seeds.Select(s => Latents.ForSeed(s, generator.LatentDim)).ToArray();
        float[][]? styles = null;
        if (style is not null && space == "w")
        {
            styles = latents.Select(z =>
            {
                var ws = style.MapToLayers(z, 1);
                Truncation.Apply(ws, 1, style.NumLayers, style.WAvg, psi, cutoff);
                return ws;
            }).ToArray();
        }
        int total = (seeds.Length - 1) * steps + 1;
        var progress = context.Progress.Start("frames");
        for (int f = 0; f < total; f++)
        {
            int segment = Math.Min(f / steps, seeds.Length - 2);
            double t = (f - segment * steps) / (double)steps;
            float[] pixels;
            if (styles is not null)
            {
                pixels = style!.Synthesize(LatentPath.Lerp(styles[segment], styles[segment + 1], t), 1);
            }
            else
            {
                var z = slerp ? LatentPath.Slerp(latents[segment], latents[segment + 1], t) : LatentPath.Lerp(latents[segment], latents[segment + 1], t);
                pixels = generator.Generate(z, 1, psi, new GenerationOptions(cutoff));
            }
            var image = RgbImage.FromPlanar(ImageQuantizer.ToUInt8(pixels), w, h);
            frames.Add(image);
            PngWriter.Write(Path.Combine(output, $"frame{f:D4}.png"), image);
            progress.Report((f + 1.0) / total);
        }
        context.Progress.Clear();
        context.Out.WriteLine($"wrote {total} frames ({space} space{(slerp ? ", slerp" : "")}, seeds {string.Join(" -> ", seeds)}) to {output}");

        if (args.Get("real") is { } realPath) WriteRealism(realPath, frames, images, output, args, context);
        Video.Encode(output, args.Get("video") ?? Path.Combine(output, "interpolation.mp4"), args.Has("video"), fps, context);
        return Program.ExitOk;
    }

    private static void WriteRealism(string realPath, List<RgbImage> frames, ImageInputOptions images, string output, ArgumentList args, CommandContext context)
    {
        var real = InputLoader.LoadKnnFeatures(realPath, context, images);
        using IFeatureNetwork network = images.OpenKnnNetwork();
        var pre = new ImagePreprocessor(images.Mode, network.InputWidth, network.InputHeight) { Normalization = images.Normalization, CenterCrop = images.CenterCrop };
        int inputFloats = pre.OutputLength;
        var features = new float[frames.Count * network.FeatureDim];
        var batch = new float[inputFloats];
        for (int i = 0; i < frames.Count; i++)
        {
            pre.Process(frames[i], $"frame {i}", batch);
            network.Run(batch, 1, features.AsSpan(i * network.FeatureDim, network.FeatureDim));
        }
        var fake = new FeatureMatrix(features, frames.Count, network.FeatureDim, "interpolation frames");
        if (real.Dim != fake.Dim) throw new InputException($"dimension mismatch: {realPath} has {real.Dim} features per sample, the frames have {fake.Dim}");
        using var backend = ComputeBackends.Create(args.Get("backend")!, context.NoticeWhenComputing);
        var scores = Realism.Scores(real, fake, backend).Scores;
        var tsv = new StringBuilder("frame\trealism\n");
        for (int i = 0; i < scores.Length; i++) tsv.Append(CultureInfo.InvariantCulture, $"{i}\t{scores[i].ToString("R", CultureInfo.InvariantCulture)}\n");
        AtomicFile.WriteAllText(Path.Combine(output, "realism.tsv"), tsv.ToString());
        var chart = new LineChart { Title = "Realism along the interpolation", XLabel = "frame", YLabel = "realism score" };
        chart.AddSeries("realism", scores.Select((s, i) => ((double)i, (double)s)));
        chart.SavePng(Path.Combine(output, "realism.png"), 800, 400);
        chart.SaveSvg(Path.Combine(output, "realism.svg"), 800, 400);
        context.Out.WriteLine($"wrote realism.tsv, realism.png and realism.svg (realism of every frame against {realPath})");
    }
}
