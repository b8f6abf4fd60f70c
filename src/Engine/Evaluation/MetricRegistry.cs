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
    /// <summary>Density and coverage of clovaai/prdc (keys: density, coverage).</summary>
    Prdc,
    /// <summary>Symmetric precision/recall of the 2023 asymmetry paper (keys: sym_precision, sym_recall, comp_precision).</summary>
    Sym,
}

/// <summary>
/// One declaration per metric group: its CLI name, the JSON keys it produces, its default k (for the
/// k-NN groups), whether statistics files suffice, and the reference tool whose number it reproduces.
/// Help text and JSON keys come from here.
/// </summary>
public sealed record MetricInfo(MetricGroup Group, string Name, string[] Keys, int? DefaultK, bool WorksFromStatistics, string Reference);

public static class MetricRegistry
{
    public static IReadOnlyList<MetricInfo> All { get; } =
    [
        new(MetricGroup.Fid, "fid", ["fid"], null, true,
            "pytorch-fid / TTUR (np.cov with N-1, Tr sqrt through a symmetric PSD form in float64)"),
        new(MetricGroup.Kid, "kid", ["kid_mean", "kid_std"], null, false,
            "torch-fidelity (cubic polynomial kernel, unbiased MMD², 100 subsets of 1000, RandomState(seed) draws)"),
        new(MetricGroup.Pr, "pr", ["precision", "recall"], 3, false,
            "Kynkäänniemi et al. 2019 / StyleGAN2 (k = 3, d <= radius), in float32 or better"),
        new(MetricGroup.Prdc, "prdc", ["density", "coverage"], 5, false,
            "clovaai/prdc (nearest_k = 5, strict <)"),
        new(MetricGroup.Sym, "sym", ["sym_precision", "sym_recall", "comp_precision"], 5, false,
            "Khayatkhoei & AbdAlmageed 2023 manifmetric (k = 5, strict <)"),
    ];

    public static MetricInfo Get(MetricGroup g) => All.First(m => m.Group == g);

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
