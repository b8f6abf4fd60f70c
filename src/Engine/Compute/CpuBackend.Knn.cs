using GenMetrics.Features;

namespace GenMetrics.Compute;

public sealed partial class CpuBackend
{
    // PLACEHOLDER: implemented by the k-NN metrics work.
    public float[][] KnnRadiiSquared(FeatureMatrix x, IReadOnlyList<int> ks, IProgress<double>? progress = null) =>
        throw new NotImplementedException();

    public CrossReductions ReduceCrossDistances(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, IProgress<double>? progress = null) =>
        throw new NotImplementedException();
}
