using GenMetrics.Features;

namespace GenMetrics.Evaluation;

/// <summary>
/// What to compute and with which parameters. Defaults reproduce the reference tools' defaults
/// (<see cref="MetricDefaults"/>); <see cref="Conventions.Resolve"/> builds one for a named tool's convention.
/// </summary>
public sealed class EvaluationOptions
{
    /// <summary>Metric groups to compute; null means every group the inputs allow (of the convention's groups, when one is named).</summary>
    public IReadOnlyList<MetricGroup>? Groups { get; init; }

    /// <summary>
    /// Neighbourhood sizes for every k-NN group asked for. Null: each group uses its reference default
    /// (pr: 3; prdc and sym: 5). Several values give one result per k from one shared distance pass.
    /// </summary>
    public IReadOnlyList<int>? Ks { get; init; }

    public int KidSubsets { get; init; } = MetricDefaults.KidSubsets;
    public int KidSubsetSize { get; init; } = MetricDefaults.KidSubsetSize;

    /// <summary>Which set each KID round draws from first (torch-fidelity: generated).</summary>
    public KidDrawOrder KidDrawOrder { get; init; } = KidDrawOrder.FakeFirst;

    /// <summary>Shrink the KID subset to the smaller set (default), or refuse as torch-fidelity and torchmetrics do.</summary>
    public KidSmallSets KidSmallSets { get; init; } = KidSmallSets.Shrink;

    /// <summary>Seed of every random draw (KID subsets); 2020 makes the draws torch-fidelity's.</summary>
    public int Seed { get; init; } = MetricDefaults.Seed;

    public CovarianceDivisor CovarianceDivisor { get; init; } = CovarianceDivisor.NMinusOne;

    /// <summary>
    /// When the backend's distance GEMMs are below fp32 (tf32, fp16): run the k-NN pass a second time on an
    /// fp32 twin and report how many membership decisions differ. Off by default: every decision is exact in
    /// every precision (float64 refinement), so the count is 0 unless something is broken; a check, opt-in.
    /// </summary>
    public bool CompareWithFp32 { get; init; }

    /// <summary>
    /// The convention these options were resolved from (null: built directly). With it the result carries
    /// `convention` and each resolved choice, and the evaluation defaults to the convention's metric groups.
    /// </summary>
    public ResolvedConvention? Convention { get; internal set; }
}
