using GenMetrics.Features;

namespace GenMetrics.Compute;

public sealed partial class CpuBackend
{
    // PLACEHOLDER: implemented by the FID / linear algebra work.
    public GaussianStatistics ComputeStatistics(IRowBlockSource source, CovarianceDivisor divisor, IProgress<double>? progress = null) =>
        throw new NotImplementedException();

    public double TraceSqrtProduct(double[] sigmaA, double[] sigmaB, int dim) =>
        throw new NotImplementedException();
}
