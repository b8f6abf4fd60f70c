using GenMetrics.Metrics;

namespace GenMetrics.Evaluation;

/// <summary>The user-facing metric groups of `genmetrics metrics --metrics ...`.</summary>
public enum MetricGroup
{
    /// <summary>Fréchet Inception Distance (keys: fid).</summary>
    Fid,
    /// <summary>Kernel Inception Distance (keys: kid_mean, kid_std).</summary>
    Kid,
    /// <summary>Improved precision and recall, NVIDIA semantics (keys: precision, recall).</summary>
    Pr,
    /// <summary>clovaai/prdc's four numbers (keys: prdc_precision, prdc_recall, density, coverage).</summary>
    Prdc,
    /// <summary>Symmetric precision/recall of the 2023 asymmetry paper (keys: sym_precision, sym_recall, comp_precision).</summary>
    Sym,
}

/// <summary>
/// One result key of a metric group. For the k-NN groups, <see cref="FromKnn"/> picks the value out of the
/// shared k-NN pass; FID and KID keys are filled by the evaluator's own code for them.
/// </summary>
/// <param name="Name">The JSON / table key (k-dependent keys get `_k3`, `_k5`, ... when several k are asked).</param>
/// <param name="Meaning">One line for `genmetrics list` and the docs.</param>
/// <param name="FromKnn">The value at one k, for k-NN keys; null otherwise.</param>
public sealed record MetricKey(string Name, string Meaning, Func<KnnMetricsAtK, double>? FromKnn = null);

/// <summary>
/// One declaration per metric group: its CLI name, the keys it produces, its default k (for the k-NN
/// groups), whether statistics files suffice, and the reference tool whose number it reproduces.
/// The evaluator, help text, `genmetrics list`, the JSON writer and the C API read keys and defaults from here.
/// </summary>
public sealed record MetricInfo(MetricGroup Group, string Name, IReadOnlyList<MetricKey> KeyInfo, int? DefaultK, bool WorksFromStatistics, string Reference)
{
    /// <summary>The key names, in output order.</summary>
    public IReadOnlyList<string> Keys { get; } = KeyInfo.Select(k => k.Name).ToArray();

    /// <summary>Whether the group is computed from the shared k-NN pass (it has a default k).</summary>
    public bool IsKnn => DefaultK is not null;
}

/// <summary>
/// Reference defaults that several places need (evaluator, metric functions, CLI help, C header): written once.
/// Each is the value of the tool named beside it; a <see cref="Convention"/> may choose others.
/// </summary>
public static class MetricDefaults
{
    /// <summary>Seed of every random draw: torch-fidelity's RandomState(2020) (KID subsets, IS shuffle).</summary>
    public const int Seed = 2020;

    /// <summary>KID subsets (every reference: 100).</summary>
    public const int KidSubsets = 100;

    /// <summary>KID subset size (every reference: 1000).</summary>
    public const int KidSubsetSize = 1000;

    /// <summary>Inception Score splits (every reference: 10).</summary>
    public const int InceptionScoreSplits = 10;

    /// <summary>k of NVIDIA's improved precision and recall (kynkaat, StyleGAN2, torch-fidelity).</summary>
    public const int PrK = 3;

    /// <summary>k of clovaai/prdc (its README's nearest_k) and of manifmetric (its default).</summary>
    public const int PrdcK = 5;
}

public static class MetricRegistry
{
    /// <summary>Keys of FID and KID, which the evaluator fills directly.</summary>
    public const string Fid = "fid", KidMean = "kid_mean", KidStd = "kid_std";

    public static IReadOnlyList<MetricInfo> All { get; } =
    [
        new(MetricGroup.Fid, "fid", [new(Fid, "Fréchet distance of the two Gaussians")], null, true,
            "pytorch-fid / TTUR (np.cov with N-1, Tr sqrt through a symmetric PSD form in float64)"),
        new(MetricGroup.Kid, "kid",
            [new(KidMean, "KID: mean of the unbiased MMD² over the subsets"), new(KidStd, "population std of the per-subset MMD²")], null, false,
            $"torch-fidelity (cubic polynomial kernel, unbiased MMD², {MetricDefaults.KidSubsets} subsets of {MetricDefaults.KidSubsetSize}, RandomState(seed) draws)"),
        new(MetricGroup.Pr, "pr",
            [
                new("precision", "fraction of fakes inside some real k-NN ball (d <= radius)", r => r.Precision),
                new("recall", "fraction of reals inside some fake k-NN ball (d <= radius)", r => r.Recall),
            ], MetricDefaults.PrK, false,
            $"Kynkäänniemi et al. 2019 / StyleGAN2 / torch-fidelity (k = {MetricDefaults.PrK}, d <= radius), in float32 or better"),
        new(MetricGroup.Prdc, "prdc",
            [
                new("prdc_precision", "prdc precision: fraction of fakes inside some real k-NN ball (strict d < radius)", r => r.PrdcPrecision),
                new("prdc_recall", "prdc recall: fraction of reals inside some fake k-NN ball (strict d < radius)", r => r.PrdcRecall),
                new("density", "mean number of real balls holding a fake, divided by k (strict <; can exceed 1)", r => r.Density),
                new("coverage", "fraction of reals whose nearest fake is strictly inside the real's own ball", r => r.Coverage),
            ], MetricDefaults.PrdcK, false,
            $"clovaai/prdc (nearest_k = {MetricDefaults.PrdcK}, radius = max of the k+1 smallest distances incl. self, strict <)"),
        new(MetricGroup.Sym, "sym",
            [
                new("sym_precision", "min(prdc_precision, comp_precision)", r => r.SymmetricPrecision),
                new("sym_recall", "min(prdc_recall, coverage)", r => r.SymmetricRecall),
                new("comp_precision", "fraction of fakes whose nearest real is strictly inside the fake's own ball", r => r.ComplementPrecision),
            ], MetricDefaults.PrdcK, false,
            $"Khayatkhoei & AbdAlmageed 2023 manifmetric (k = {MetricDefaults.PrdcK}, strict <)"),
    ];

    /// <summary>Report keys of the k-NN pass: how its decisions were reached, not metrics (kept out of sweep tables and charts).</summary>
    public const string RefinedDecisions = "refined_decisions", MembershipDecisions = "membership_decisions",
        MembershipChanged = "membership_changed", MembershipChangedFraction = "membership_changed_fraction";

    /// <summary>
    /// The report keys with their meaning: <see cref="RefinedDecisions"/> with every k-NN result, the membership
    /// keys only with `--fp32-check` on a tf32/fp16 backend.
    /// </summary>
    public static IReadOnlyList<MetricKey> ReportKeys { get; } =
    [
        new(RefinedDecisions, "k-NN comparisons and radii the float32 distance's error bound could not settle, decided in float64"),
        new(MembershipDecisions, "per-sample decisions compared between the backend's precision and an fp32 rerun (--fp32-check)"),
        new(MembershipChanged, "of those, how many differ (0 unless something is broken)"),
        new(MembershipChangedFraction, "membership_changed / membership_decisions"),
    ];

    /// <summary>Whether <paramref name="key"/> is a report key (<see cref="ReportKeys"/>) rather than a metric value.</summary>
    public static bool IsReportKey(string key) => ReportKeys.Any(r => r.Name == key);

    public static MetricInfo Get(MetricGroup g) => All.First(m => m.Group == g);

    /// <summary>The key declaration of a k-NN key name (without a `_kN` suffix).</summary>
    public static MetricKey Key(string name) =>
        All.SelectMany(m => m.KeyInfo).FirstOrDefault(k => k.Name == name) ?? throw new ArgumentException($"no metric key '{name}'", nameof(name));

    /// <summary>The named conventions (reference tools' settings), in `genmetrics list --conventions` order.</summary>
    public static IReadOnlyList<Convention> Conventions => Evaluation.Conventions.All;

    /// <summary>
    /// Parses `fid,kid,pr,prdc,sym` or `all` (case-insensitive, any order); throws an
    /// <see cref="InputException"/> naming the unknown entry.
    /// </summary>
    public static IReadOnlyList<MetricGroup> Parse(string text)
    {
        var groups = new List<MetricGroup>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var m in All) if (!groups.Contains(m.Group)) groups.Add(m.Group);
                continue;
            }
            var info = All.FirstOrDefault(m => m.Name.Equals(part, StringComparison.OrdinalIgnoreCase))
                ?? throw new InputException($"--metrics: unknown metric '{part}' (expected {string.Join(", ", All.Select(m => m.Name))} or all)");
            if (!groups.Contains(info.Group)) groups.Add(info.Group);
        }
        if (groups.Count == 0) throw new InputException("--metrics: no metric named");
        groups.Sort();
        return groups;
    }
}
