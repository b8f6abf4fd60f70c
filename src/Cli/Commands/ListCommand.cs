using System.CommandLine;
using GenMetrics.Evaluation;

namespace GenMetrics.Cli.Commands;

public sealed class ListCommand : ICommand
{
    public string Name => "list";
    public string Summary => "List the metric groups, their JSON keys, default k and the reference tool each reproduces; --conventions lists the named conventions.";
    public string Usage => "";
    public int Order => 90;
    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Flag("conventions", "list the named conventions (--convention NAME) and every choice each sets"),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        if (args.Flag("conventions"))
        {
            ListConventions(context);
            return Program.ExitOk;
        }
        foreach (var m in MetricRegistry.All)
        {
            context.Out.WriteLine($"{m.Name,-6} keys: {string.Join(", ", m.Keys)}{(m.DefaultK is { } k ? $"; default k = {k}" : "")}{(m.WorksFromStatistics ? "; works from mu/sigma statistics" : "")}");
            context.Out.WriteLine($"       matches: {m.Reference}");
        }
        context.Out.WriteLine($"report keys (with the k-NN groups): {string.Join(", ", MetricRegistry.ReportKeys.Select(r => r.Name))}");
        context.Out.WriteLine($"conventions: {string.Join(", ", MetricRegistry.Conventions.Select(c => c.Name))} (genmetrics list --conventions)");
        return Program.ExitOk;
    }

    private static void ListConventions(CommandContext context)
    {
        var all = MetricRegistry.All.Select(m => m.Group).ToList();
        foreach (var c in MetricRegistry.Conventions)
        {
            var resolved = Conventions.Resolve(c.Name);
            var groups = c.Groups ?? all;
            context.Out.WriteLine($"{c.Name}{(c.Aliases.Count > 0 ? $" (also: {string.Join(", ", c.Aliases)})" : "")}");
            context.Out.WriteLine($"  tool: {c.Tool}");
            string k = c.K is { } ck ? ck.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : $"pr {MetricDefaults.PrK}, prdc and sym {MetricDefaults.PrdcK}";
            bool knn = groups.Any(g => MetricRegistry.Get(g).IsKnn);
            context.Out.WriteLine($"  metrics: {string.Join(",", groups.Select(g => MetricRegistry.Get(g).Name))}{(knn ? $"; k: {k}" : "")}");
            foreach (var choice in resolved.ChoicesFor(groups, images: true))
                context.Out.WriteLine($"  {choice.Key}: {choice.Text}");
            context.Out.WriteLine($"  is_splits: {resolved.InceptionScoreSplits}; is_shuffle: {(resolved.InceptionScoreShuffle ? "true" : "false")}");
            foreach (var d in c.Differences) context.Out.WriteLine($"  differs: {d}");
            context.Out.WriteLine($"  source: {c.Source}");
        }
    }
}
