using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GenMetrics.Benchmarks;
using GenMetrics.Compute;

namespace GenMetrics.Cli.Commands;

public sealed class BenchCommand : ICommand
{
    public string Name => "bench";
    public string Summary => "Benchmark the hot paths (distance GEMM, precision/recall, FID) and print a table and JSON with times and GFLOP/s.";
    public string Usage => "[options]";
    public int Order => 80;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        CommonOptions.Backend("cpu", "cpu or cuda"),
        CommonOptions.Precision("cuda distance GEMMs: fp32 (default), tf32 or fp16; the faster two also count the P/R membership decisions that differ from fp32 (0: all are exact)"),
        Opt.Text("only", "comma-separated subset: gemm, pr, fid, images (default gemm, pr, fid)", "LIST"),
        Opt.Text("images", "with --only images: folders jpeg/ and png/ made by perf/make_bench_images.py (default: made in memory)", "DIR"),
        Opt.Flag("quick", "small sizes (seconds instead of minutes)"),
        Opt.OptionalInt("samples", "precision/recall with N samples per set instead of the standard sizes (with --dims)", "N", min: 4),
        Opt.IntList("dims", "feature dimensions for --samples, comma-separated (default 512)", "D,...", min: 1),
        Opt.Flag("profile", "cuda: bracket the measured region with cuProfilerStart/Stop (for ncu/nsys --capture-range)"),
        Opt.Int("repeats", "timed repeats per benchmark, median reported", "R", 5, min: 1),
        CommonOptions.Json("write the results as JSON to PATH, or to stdout with '-'"),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        var only = (args.Get("only") ?? "gemm,pr,fid").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        foreach (var o in only)
            if (o is not ("gemm" or "pr" or "fid" or "images")) throw new UsageException($"--only: unknown benchmark '{o}' (gemm, pr, fid, images)");
        int? samples = args.GetOptionalInt("samples");
        var dims = args.GetIntList("dims");
        if (dims is not null && samples is null) throw new UsageException("--dims needs --samples");
        var options = new BenchmarkOptions(Repeats: args.GetInt("repeats"), Quick: args.Flag("quick"), Samples: samples, Dims: dims, Only: only);
        using var backend = ComputeBackends.Create(args.Get("backend")!, context.Notice, args.Get("precision")!);
        string? json = args.Get("json");
        OutputPaths.CheckFile(json, "--json", [".json"], [], allowStdout: true);
        var text = json == "-" ? TextWriter.Null : context.Out;
        text.WriteLine($"backend: {backend.Description}");

        // Every benchmark prints its line as soon as it is measured (the full sizes take minutes on a small CPU).
        var results = new List<BenchmarkResult>();
        void Print(BenchmarkResult r)
        {
            results.Add(r);
            text.WriteLine(Format(r));
        }
        text.WriteLine($"{"benchmark",-34} {"sizes",-28} {"seconds",10} {"GFLOP/s",9} {"% peak",7}");
        if (backend is CpuBackend)
        {
            if (options.Includes("gemm")) GemmBenchmark.Run(options, Print);
            if (options.Includes("fid")) FidBenchmark.Run(options, Print);
            if (options.Includes("pr")) PrecisionRecallBenchmark.Run(options, backend, Print);
            if (only.Contains("images")) ImageBenchmark.Run(options, args.Get("images"), Print);
        }
        else
        {
            CudaBenchmark.Run(options, backend, args.Flag("profile"), Print);
        }

        if (json is not null)
        {
            string doc = JsonSerializer.Serialize(new { backend = backend.Description, results }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
            if (json == "-") context.Out.WriteLine(doc);
            else OutputPaths.WriteText(json, doc + "\n", context);
        }
        return Program.ExitOk;
    }

    private static string Format(BenchmarkResult r)
    {
        string gflops = r.Gflops is { } g ? g.ToString("0.0", CultureInfo.InvariantCulture) : "-";
        string peak = r.PercentOfPeak is { } p ? p.ToString("0.0", CultureInfo.InvariantCulture) : "-";
        string line = string.Format(CultureInfo.InvariantCulture, "{0,-34} {1,-28} {2,10:0.0000} {3,9} {4,7}", r.Name, r.Sizes, r.Seconds, gflops, peak);
        return r.Note is null ? line : line + "  " + r.Note;
    }
}
