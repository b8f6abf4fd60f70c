using System.CommandLine;
using GenMetrics.Evaluation;

namespace GenMetrics.Cli.Commands;

public sealed class ListCommand : ICommand
{
    public string Name => "list";
    public string Summary => "List the metric groups, their JSON keys, default k and the reference tool each reproduces.";
    public string Usage => "";
    public int Order => 90;
    public IReadOnlyList<Symbol> Options { get; } = [];

    public int Run(ArgumentList args, CommandContext context)
    {
        foreach (var m in MetricRegistry.All)
        {
            context.Out.WriteLine($"{m.Name,-6} keys: {string.Join(", ", m.Keys)}{(m.DefaultK is { } k ? $"; default k = {k}" : "")}{(m.WorksFromStatistics ? "; works from mu/sigma statistics" : "")}");
            context.Out.WriteLine($"       matches: {m.Reference}");
        }
        return Program.ExitOk;
    }
}
