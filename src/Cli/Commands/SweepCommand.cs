using System.CommandLine;
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

    public IReadOnlyList<Symbol> Options { get; } =
    [
        CommonOptions.Generator(),
        Opt.Text("real", "the real set: .npy/.npz features, .npz statistics (fid only), a folder / .zip of images or a .txt image list (one path per line)", "REAL"),
        Opt.Text("psi", "comma-separated truncation values", "LIST", "1.0,0.9,0.8,0.7,0.6,0.5,0.4,0.3"),
        Opt.Int("n", "generated samples per psi, seeds 0..N-1", "N", 50000, min: 2),
        Opt.Text("metrics", "comma-separated: fid,kid,pr,prdc,sym (default: the convention's, else fid,pr,prdc)", "LIST"),
        CommonOptions.KList($"neighbourhood size(s) for pr/prdc/sym (default: the convention's, else pr {MetricDefaults.PrK}, prdc and sym {MetricDefaults.PrdcK})"),
        ConventionOptions.Spec,
        CommonOptions.TruncationCutoff(),
        CommonOptions.Batch(),
        CommonOptions.Output("folder for sweep.json, pr.png/pr.svg, density.png/density.svg and fid.png/fid.svg", "DIR"),
        .. BackendOptions.Specs,
        CommonOptions.Seed($"seed of every random draw (KID subsets; default {MetricDefaults.Seed})", MetricDefaults.Seed),
        CommonOptions.CovDivisor("covariance divisor for FID: n-1 (default, pytorch-fid) or n (StyleGAN2-ADA)"),
        .. ImageInputOptions.Specs,
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        string generatorPath = args.Get("generator") ?? throw new UsageException("missing --generator G.json");
        string realPath = args.Get("real") ?? throw new UsageException("missing --real REAL");
        var psis = ParsePsi(args.Get("psi")!);
        int n = args.GetInt("n");
        var named = args.Get("convention") is { } name ? Conventions.Find(name) : null;
        var groups = args.Get("metrics") is { } m ? MetricRegistry.Parse(m)
            : named?.Groups ?? [MetricGroup.Fid, MetricGroup.Pr, MetricGroup.Prdc];
        var convention = ConventionOptions.Resolve(args, groups);
        var options = convention.Options;
        int? cutoff = args.GetOptionalInt("truncation-cutoff");
        int batch = args.GetInt("batch");
        string? output = args.Get("output");
        OutputPaths.CheckFolder(output, "-o", ["sweep.json", "pr.png", "pr.svg", "density.png", "density.svg", "fid.png", "fid.svg"], [generatorPath, realPath]);
        var images = ImageInputOptions.From(args) with { Mode = convention.ImageMode, KnnLayer = convention.KnnLayer };

        using var generator = Generator.Load(generatorPath);
        // Every psi is checked before the first sample (a generator without a psi input fails now, not after the psi 1.0 row).
        foreach (double psi in psis) generator.CheckRequest(psi, new GenerationOptions(cutoff));
        var real = InputLoader.Load(realPath, null, context, images, groups);
        var (networks, forGaussian, forKnn) = OpenNetworks(images, groups);
        try
        {
            using var backend = BackendOptions.Create(args, context);
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
                var fake = MetricInput.FromImages($"generator psi {psi}", forGaussian is { } g ? features[g] : null, forKnn is { } k ? features[k] : null,
                    ownNetwork: images.Network is { } own ? $"{Path.GetFileName(own)}:{images.Layer ?? images.NetworkOutput}" : null);
                var result = Evaluator.Evaluate(real, fake, options, backend, phase => context.Progress.Start($"psi {psi:0.0##}: {phase}"));
                context.Progress.Clear();
                rows.Add((psi, result));
                // The table shows the metric columns of its header; the rest (e.g. the tf32 membership
                // counts) is in sweep.json, and the notes go to stderr.
                var metricValues = result.Values.Where(v => IsMetric(v.Key));
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {psi,3:0.0#}") +
                    string.Concat(metricValues.Select(v => string.Create(CultureInfo.InvariantCulture, $" {v.Value,14:0.000000}"))));
                if (rows.Count == 1) ConventionOptions.Print(convention, result, context);
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
            networks.Add((FeatureLayer.For(MetricGroup.Pr) with { Layer = images.KnnLayer }).Open(device: images.Device));
            k = networks.Count - 1;
        }
        return (networks, g, k);
    }

    /// <summary>A metric value, not a count about the computation (refined_decisions, the --fp32-check membership_* keys).</summary>
    private static bool IsMetric(string key) => !MetricRegistry.IsReportKey(key);

    private static void WriteOutputs(string folder, List<(double Psi, EvaluationResult Result)> rows, CommandContext context)
    {
        AtomicFile.WriteAllText(Path.Combine(folder, "sweep.json"), EvaluationResult.ToJsonArray("psi", rows) + "\n");
        var written = new List<string> { "sweep.json" };

        // Fractions (precision, recall, coverage, ...; all in [0, 1]) share one chart. Density is unbounded (it
        // reaches ~150 on a collapsed generator) and FID has its own units: each has its own chart, so that
        // neither flattens the fractions to a line.
        static bool IsDensity(string key) => key.StartsWith("density", StringComparison.Ordinal);
        var fractionKeys = rows[0].Result.Values.Select(v => v.Key)
            .Where(k => IsMetric(k) && !k.StartsWith("fid", StringComparison.Ordinal) && !k.StartsWith("kid", StringComparison.Ordinal) && !IsDensity(k)).ToList();
        var densityKeys = rows[0].Result.Values.Select(v => v.Key).Where(IsDensity).ToList();
        if (fractionKeys.Count > 0)
        {
            var chart = new LineChart { Title = "Truncation sweep", XLabel = "psi", YLabel = "value", ReverseX = true };
            foreach (var key in fractionKeys) chart.AddSeries(key, rows.Select(r => (r.Psi, r.Result[key])));
            chart.SavePng(Path.Combine(folder, "pr.png"), 800, 500);
            chart.SaveSvg(Path.Combine(folder, "pr.svg"), 800, 500);
            written.AddRange(["pr.png", "pr.svg"]);
        }
        if (densityKeys.Count > 0)
        {
            var chart = new LineChart { Title = "Density against truncation", XLabel = "psi", YLabel = "density", ReverseX = true };
            foreach (var key in densityKeys) chart.AddSeries(key, rows.Select(r => (r.Psi, r.Result[key])));
            chart.SavePng(Path.Combine(folder, "density.png"), 800, 500);
            chart.SaveSvg(Path.Combine(folder, "density.svg"), 800, 500);
            written.AddRange(["density.png", "density.svg"]);
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
