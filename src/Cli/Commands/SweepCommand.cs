using System.Globalization;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Generators;
using GenMetrics.Imaging;
using GenMetrics.Models;
using GenMetrics.Reports;

namespace GenMetrics.Cli.Commands;

/// <summary>
/// `genmetrics sweep`: the StyleGAN truncation sweep. For every psi, N samples (seeds 0..N-1) are
/// generated, turned into features batch by batch (nothing but the features is kept) and evaluated
/// against the real set; a table, JSON and the precision/recall (and FID) curves against psi as PNG
/// and SVG.
/// </summary>
public sealed class SweepCommand : ICommand
{
    public string Name => "sweep";
    public string Summary => "Truncation sweep of an ONNX generator: metrics against a real set for each psi, as a table, JSON and PNG/SVG curves.";
    public string Usage => "--generator G.json --real REAL [--psi 1.0,0.9,...,0.3] [--n 50000] [-o DIR] [options]";
    public int Order => 55;

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("generator", "the generator description (generator.json; see docs/generators.md)", ValueName: "G.json"),
        new("real", "the real set: .npy/.npz features, .npz statistics (fid only) or a folder / .zip of images", ValueName: "REAL"),
        new("psi", "comma-separated truncation values (default 1.0,0.9,0.8,0.7,0.6,0.5,0.4,0.3)", ValueName: "LIST"),
        new("n", "generated samples per psi, seeds 0..N-1 (default 50000)", ValueName: "N"),
        new("metrics", "comma-separated: fid,kid,pr,prdc,sym (default fid,pr,prdc)", ValueName: "LIST"),
        new("k", "neighbourhood size(s) for pr/prdc/sym (default: pr 3, prdc and sym 5)", ValueName: "K"),
        new("truncation-cutoff", "truncate only the first N style layers (stylegan generators)", ValueName: "N"),
        new("batch", "images per generator call (default 16)", ValueName: "N"),
        new("output", "folder for sweep.json, pr.png/pr.svg and fid.png/fid.svg", ValueName: "DIR", Short: 'o'),
        .. BackendOptions.Specs,
        new("seed", "seed of every random draw (KID subsets; default 2020)", ValueName: "S"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        args.RequirePositional();
        string generatorPath = args.Get("generator") ?? throw new UsageException("missing --generator G.json");
        string realPath = args.Get("real") ?? throw new UsageException("missing --real REAL");
        var psis = ParsePsi(args.Get("psi") ?? "1.0,0.9,0.8,0.7,0.6,0.5,0.4,0.3");
        int n = args.GetInt("n", 50000, min: 2);
        var groups = MetricRegistry.Parse(args.Get("metrics") ?? "fid,pr,prdc");
        var options = new EvaluationOptions
        {
            Groups = groups,
            Ks = args.GetIntList("k", min: 1),
            Seed = args.GetInt("seed", 2020, min: 0),
            CompareWithFp32 = BackendOptions.CompareWithFp32(args),
        };
        int? cutoff = args.Has("truncation-cutoff") ? args.GetInt("truncation-cutoff", 0, min: 1) : null;
        int batch = args.GetInt("batch", 16, min: 1, max: 4096);
        string? output = args.Get("output");
        if (output is not null) Directory.CreateDirectory(output);
        var images = ImageInputOptions.From(args);

        using var backend = BackendOptions.Create(args, context);
        var real = InputLoader.Load(realPath, null, context, images, groups);
        using var generator = Generator.Load(generatorPath);
        var (networks, forGaussian, forKnn) = OpenNetworks(images, groups);
        try
        {
            var seeds = Enumerable.Range(0, n).Select(i => (uint)i).ToArray();
            var rows = new List<(double Psi, EvaluationResult Result)>();
            var keys = MetricRegistry.All.Where(m => groups.Contains(m.Group)).SelectMany(m => m.Keys).ToList();
            context.Out.WriteLine($"generator: {generator.Name}; {n} samples per psi against {realPath}");
            context.Out.WriteLine("  psi " + string.Concat(keys.Select(k => $" {k,14}")));
            foreach (double psi in psis)
            {
                var features = GeneratedFeatures.Extract(generator, seeds, psi, new GenerationOptions(cutoff), networks, images.Mode, batch,
                    context.Progress.Start($"psi {psi:0.0##}: generating"), $"{Path.GetFileName(generatorPath)} psi {psi}", images.Normalization);
                context.Progress.Clear();
                var fake = MetricInput.FromImages($"generator psi {psi}", forGaussian is { } g ? features[g] : null, forKnn is { } k ? features[k] : null);
                var result = Evaluator.Evaluate(real, fake, options, backend, phase => context.Progress.Start($"psi {psi:0.0##}: {phase}"));
                context.Progress.Clear();
                rows.Add((psi, result));
                // The table shows the metric columns of its header; the rest (e.g. the tf32 membership
                // counts) is in sweep.json, and the notes go to stderr.
                var metricValues = result.Values.Where(v => !v.Key.StartsWith("membership_", StringComparison.Ordinal));
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {psi,3:0.0#}") +
                    string.Concat(metricValues.Select(v => string.Create(CultureInfo.InvariantCulture, $" {v.Value,14:0.000000}"))));
                foreach (var note in result.Notes) context.Notice(string.Create(CultureInfo.InvariantCulture, $"psi {psi:0.0##}: {note}"));
            }
            if (output is not null) WriteOutputs(output, rows, context);
        }
        finally
        {
            foreach (var network in networks) network.Dispose();
        }
        return Program.ExitOk;
    }

    private static double[] ParsePsi(string text)
    {
        var values = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double psi) || !double.IsFinite(psi))
                throw new UsageException($"--psi: '{part}' is not a number");
            Truncation.CheckPsi(psi);
            values.Add(psi);
        }
        if (values.Count == 0) throw new UsageException("--psi: no value given");
        return [.. values];
    }

    /// <summary>
    /// The networks the asked metrics need: the user's own for everything, or the installed Inception
    /// (FID, KID) and VGG-16 (k-NN metrics), each opened once for the whole sweep.
    /// </summary>
    private static (List<IFeatureNetwork> Networks, int? Gaussian, int? Knn) OpenNetworks(ImageInputOptions images, IReadOnlyList<MetricGroup> groups)
    {
        bool gaussian = groups.Any(g => MetricRegistry.Get(g).DefaultK is null);
        bool knn = groups.Any(g => MetricRegistry.Get(g).DefaultK is not null);
        var networks = new List<IFeatureNetwork>();
        if (images.CustomLayer is { } custom)
        {
            networks.Add(custom.Open(device: images.Device));
            return (networks, gaussian ? 0 : null, knn ? 0 : null);
        }
        int? g = null, k = null;
        if (gaussian)
        {
            networks.Add(FeatureLayer.For(MetricGroup.Fid).Open(device: images.Device));
            g = networks.Count - 1;
        }
        if (knn)
        {
            networks.Add(FeatureLayer.For(MetricGroup.Pr).Open(device: images.Device));
            k = networks.Count - 1;
        }
        return (networks, g, k);
    }

    private static void WriteOutputs(string folder, List<(double Psi, EvaluationResult Result)> rows, CommandContext context)
    {
        AtomicFile.WriteAllText(Path.Combine(folder, "sweep.json"), EvaluationResult.ToJsonArray("psi", rows) + "\n");
        var written = new List<string> { "sweep.json" };

        // Precision-like values share one chart (0..1 or a little above for density); FID has its own scale.
        var fractionKeys = rows[0].Result.Values.Select(v => v.Key).Where(k => !k.StartsWith("fid", StringComparison.Ordinal) && !k.StartsWith("kid", StringComparison.Ordinal)).ToList();
        if (fractionKeys.Count > 0)
        {
            var chart = new LineChart { Title = "Truncation sweep", XLabel = "psi", YLabel = "value", ReverseX = true };
            foreach (var key in fractionKeys) chart.AddSeries(key, rows.Select(r => (r.Psi, r.Result[key])));
            chart.SavePng(Path.Combine(folder, "pr.png"), 800, 500);
            chart.SaveSvg(Path.Combine(folder, "pr.svg"), 800, 500);
            written.AddRange(["pr.png", "pr.svg"]);
        }
        if (rows[0].Result.Contains("fid"))
        {
            var chart = new LineChart { Title = "FID against truncation", XLabel = "psi", YLabel = "FID", ReverseX = true };
            chart.AddSeries("fid", rows.Select(r => (r.Psi, r.Result["fid"])));
            chart.SavePng(Path.Combine(folder, "fid.png"), 800, 500);
            chart.SaveSvg(Path.Combine(folder, "fid.svg"), 800, 500);
            written.AddRange(["fid.png", "fid.svg"]);
        }
        context.Out.WriteLine($"wrote {string.Join(", ", written)} to {folder}");
    }
}
