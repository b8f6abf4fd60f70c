using System.Globalization;
using GenMetrics.Evaluation;
using GenMetrics.Imaging;

namespace GenMetrics.Cli;

/// <summary>
/// `--convention NAME` and the explicit options that override a convention's values. The conventions
/// themselves (and every default) live in the engine's registry (<see cref="Conventions"/>); this only
/// reads the command line and prints the resolved choices.
/// </summary>
internal static class ConventionOptions
{
    public static OptionSpec Spec { get; } = new("convention",
        $"use a reference tool's settings: {string.Join(", ", Conventions.All.Skip(1).Select(c => c.Name))} " +
        "(default: genmetrics; explicit options override it; genmetrics list --conventions)", ValueName: "NAME");

    /// <summary>The convention of --convention (or the defaults) with the explicit options of this command line on top.</summary>
    public static ResolvedConvention Resolve(ArgumentList args, IReadOnlyList<MetricGroup>? groups = null)
    {
        int? Int(string name, int min) => args.Has(name) ? args.GetInt(name, 0, min: min) : null;
        return Conventions.Resolve(args.Get("convention"), new ConventionOverrides
        {
            Groups = groups ?? (args.Get("metrics") is { } m ? MetricRegistry.Parse(m) : null),
            Ks = args.GetIntList("k", min: 1),
            KidSubsets = Int("kid-subsets", 1),
            KidSubsetSize = Int("kid-subset-size", 2),
            Seed = Int("seed", 0),
            CovarianceDivisor = args.Get("cov-divisor") is { } d ? Commands.MetricsCommand.ParseDivisor(d) : null,
            ImageMode = args.Get("mode") is { } mode ? ImagePreprocessor.ParseMode(mode) : null,
            CompareWithFp32 = BackendOptions.CompareWithFp32(args),
        });
    }

    /// <summary>The override lines, then the table of the choices a result was computed with (stderr).</summary>
    public static void Print(ResolvedConvention resolved, EvaluationResult result, CommandContext context)
    {
        foreach (var note in resolved.OverrideNotes) context.Notice(note);
        if (result.Convention is null) return;
        var choices = result.Choices.ToList();
        if (result.Ks.Count > 0) choices.Insert(0, new ConventionChoice("k", string.Join(",", result.Ks.Select(k => k.ToString(CultureInfo.InvariantCulture))), ChoiceScope.Knn));
        context.Notice(ResolvedConvention.Table(result.Convention, choices));
    }
}
