using GenMetrics.Features;

namespace GenMetrics.Evaluation;

/// <summary>
/// One side of an evaluation: a feature matrix (every metric), or only Gaussian statistics (FID only).
/// For features read from a float64 file, <see cref="StatisticsSource"/> streams the original float64
/// values so that FID's mean and covariance are not computed from the float32 copy.
/// </summary>
public sealed class MetricInput
{
    private MetricInput(string name, int dim, FeatureMatrix? features, IRowBlockSource? statisticsSource, GaussianStatistics? statistics)
    {
        Name = name;
        Dim = dim;
        Features = features;
        StatisticsSource = statisticsSource;
        Statistics = statistics;
    }

    public string Name { get; }
    public int Dim { get; }
    public FeatureMatrix? Features { get; }
    public IRowBlockSource? StatisticsSource { get; }
    public GaussianStatistics? Statistics { get; }

    public bool HasFeatures => Features is not null;

    public static MetricInput FromFeatures(FeatureMatrix features, IRowBlockSource? statisticsSource = null) =>
        new(features.Name, features.Dim, features, statisticsSource ?? features, null);

    public static MetricInput FromStatistics(GaussianStatistics statistics) =>
        new(statistics.Name, statistics.Dim, null, null, statistics);
}
