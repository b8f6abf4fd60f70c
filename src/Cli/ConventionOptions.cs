using System.CommandLine;
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
    public static Option<string?> Spec => Opt.Text("convention",
        $"use a reference tool's settings: {string.Join(", ", Conventions.All.Skip(1).Select(c => c.Name))} " +
        "(default: genmetrics; explicit options override it; genmetrics list --conventions)", "NAME",
        suggestions: Conventions.All.Select(c => c.Name).ToArray());

    /// <summary>The convention of --convention (or the defaults) with the explicit options of this command line on top.</summary>
    public static ResolvedConvention Resolve(ArgumentList args, IReadOnlyList<MetricGroup>? groups = null)
    {
        // Only options given on the command line override the convention (a declared default does not).
        bool Given(string name) => args.Declares(name) && args.Has(name);
        int? Int(string name) => Given(name) ? args.GetInt(name) : null;
        return Conventions.Resolve(args.Get("convention"), new ConventionOverrides
        {
            Groups = groups ?? (Given("metrics") ? MetricRegistry.Parse(args.Get("metrics")!) : null),
            Ks = Given("k") ? args.GetIntList("k") : null,
            KidSubsets = Int("kid-subsets"),
            KidSubsetSize = Int("kid-subset-size"),
            Seed = Int("seed"),
            CovarianceDivisor = Given("cov-divisor") ? Commands.MetricsCommand.ParseDivisor(args.Get("cov-divisor")!) : null,
            ImageMode = Given("mode") ? ImagePreprocessor.ParseMode(args.Get("mode")!) : null,
            CompareWithFp32 = args.Declares("fp32-check") && BackendOptions.CompareWithFp32(args),
        });
    }

    /// <summary>The override lines, then the table of the choices a result was computed with (stderr).</summary>
    public static void Print(ResolvedConvention resolved, EvaluationResult result, CommandContext context)
    {
        foreach (var note in resolved.OverrideNotes) context.Notice(note);
        if (result.Convention is null) return;
        var choices = result.Choices.ToList();
        if (result.Ks.Count > 0)
            choices.Insert(0, new ConventionChoice("k", string.Join(",", result.Ks.Select(k => k.ToString(CultureInfo.InvariantCulture))), ChoiceScope.Knn,
                IsDefault: result.GenMetricsDefaults.Contains("k")));
        context.Notice(ResolvedConvention.Table(result.Convention, choices));
    }
}
