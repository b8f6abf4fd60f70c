using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using GenMetrics.Compute;
using GenMetrics.Demo;
using GenMetrics.Evaluation;

namespace GenMetrics.Cli.Commands;

public sealed class DemoCommand : ICommand
{
    public string Name => "demo";
    public string Summary => "Run a truncation sweep (psi 1.0 .. 0.3) of a synthetic generator in feature space: FID, precision, recall, density, coverage. Needs no files.";
    public string Usage => "[options]";
    public int Order => 1;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Int("n", "samples per set", "N", 5000, min: 10, max: 1_000_000),
        Opt.Int("dim", "feature dimension", "D", TruncationDemo.DefaultDim, min: 1, max: 100_000),
        CommonOptions.Seed("seed of the synthetic data", 1),
        CommonOptions.Json("also write the sweep as JSON to PATH, or only JSON to stdout with '-'"),
        CommonOptions.Backend(),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        int n = args.GetInt("n");
        int dim = args.GetInt("dim");
        int seed = args.GetInt("seed");
        string? json = args.Get("json");
        OutputPaths.CheckFile(json, "--json", [".json"], [], allowStdout: true);
        var text = json == "-" ? TextWriter.Null : context.Out;

        using var backend = ComputeBackends.Create(args.Get("backend")!, context.Notice);
        var demo = new TruncationDemo(dim, seed: (ulong)seed);
        var real = MetricInput.FromFeatures(demo.Real(n));
        var options = new EvaluationOptions { Groups = [MetricGroup.Fid, MetricGroup.Pr, MetricGroup.Prdc] };

        text.WriteLine($"GenMetrics demo: a synthetic generator in a {dim}-d feature space ({demo.Modes} Gaussian modes),");
        text.WriteLine($"{n} real and {n} generated samples per truncation psi; precision/recall with k = 3 (NVIDIA),");
        text.WriteLine("density/coverage with k = 5 (prdc). Lower psi pulls samples toward the mode centres:");
        text.WriteLine("precision and density rise, recall and coverage fall (the truncation trade-off).");
        text.WriteLine($"backend: {backend.Description}");
        text.WriteLine();
        text.WriteLine("  psi        FID  precision    recall   density  coverage");

        var clock = Stopwatch.StartNew();
        var rows = new List<(double Psi, EvaluationResult R)>();
        foreach (double psi in TruncationDemo.SweepPsi)
        {
            var fake = MetricInput.FromFeatures(demo.Generated(n, psi));
            var r = Evaluator.Evaluate(real, fake, options, backend, phase => context.Progress.Start($"psi {psi:0.0}: {phase}"));
            context.Progress.Clear();
            rows.Add((psi, r));
            text.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {psi,3:0.0} {r["fid"],10:0.0000} {r["precision"],10:0.0000} {r["recall"],9:0.0000} {r["density"],9:0.0000} {r["coverage"],9:0.0000}"));
        }
        text.WriteLine();
        text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows.Count} evaluations in {clock.Elapsed.TotalSeconds:0.0} s"));

        if (json is not null)
        {
            string sweep = EvaluationResult.ToJsonArray("psi", rows);
            if (json == "-") context.Out.WriteLine(sweep);
            else OutputPaths.WriteText(json, sweep + "\n", context);
        }
        return Program.ExitOk;
    }
}
