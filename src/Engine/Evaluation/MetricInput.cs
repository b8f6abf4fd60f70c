using GenMetrics.Features;

namespace GenMetrics.Evaluation;

/// <summary>
/// One side of an evaluation: a feature matrix (every metric), or only Gaussian statistics (FID only).
/// For features read from a float64 file, <see cref="StatisticsSource"/> streams the original float64
/// values so that FID's mean and covariance are not computed from the float32 copy.
/// </summary>
public sealed class MetricInput
{
    private MetricInput(string name, int dim, FeatureMatrix? features, IRowBlockSource? statisticsSource, GaussianStatistics? statistics, FeatureMatrix? knnFeatures = null)
    {
        Name = name;
        Dim = dim;
        Features = features;
        StatisticsSource = statisticsSource;
        Statistics = statistics;
        KnnFeatures = knnFeatures ?? features;
    }

    public string Name { get; }
    public int Dim { get; }
    public FeatureMatrix? Features { get; }
    public IRowBlockSource? StatisticsSource { get; }
    public GaussianStatistics? Statistics { get; }

    /// <summary>
    /// Features for the k-NN metrics (precision/recall, density/coverage, symmetric P/R). The same as
    /// <see cref="Features"/> for feature files; for images, VGG-16 fc2 features (the P/R papers'
    /// extractor) while <see cref="Features"/> are Inception pool3 (FID, KID). Null when not available.
    /// </summary>
    public FeatureMatrix? KnnFeatures { get; }

    public bool HasFeatures => Features is not null;

    /// <summary>Whether the features were extracted from images (then the convention's image choices apply).</summary>
    public bool IsImages { get; private init; }

    public static MetricInput FromFeatures(FeatureMatrix features, IRowBlockSource? statisticsSource = null) =>
        new(features.Name, features.Dim, features, statisticsSource ?? features, null);

    /// <summary>
    /// Features extracted from images: Inception pool3 for FID/KID (either may be null when the network is
    /// not installed) and VGG-16 fc2 for the k-NN metrics.
    /// </summary>
    public static MetricInput FromImages(string name, FeatureMatrix? inception, FeatureMatrix? vgg, IReadOnlyList<Models.FeatureProvenance>? networks = null, string? ownNetwork = null) =>
        new(name, (inception ?? vgg)!.Dim, inception, inception, null, vgg) { IsImages = true, OwnNetwork = ownNetwork, Networks = networks ?? [] };

    /// <summary>The user's own feature network (e.g. "net.onnx:pool") when it, not Inception/VGG-16, made the features.</summary>
    public string? OwnNetwork { get; private init; }

    /// <summary>The installed checkpoints the features came from (empty for feature files and a user's ONNX network).</summary>
    public IReadOnlyList<Models.FeatureProvenance> Networks { get; private init; } = [];

    public static MetricInput FromStatistics(GaussianStatistics statistics) =>
        new(statistics.Name, statistics.Dim, null, null, statistics);
}
