using GenMetrics.Compute;
using GenMetrics.Features;

namespace GenMetrics.Metrics;

/// <summary>The three parts of FID, for diagnostics: FID = MeanTerm + TraceA + TraceB − 2·TraceSqrtProduct.</summary>
public sealed record FidTerms(double MeanTerm, double TraceA, double TraceB, double TraceSqrtProduct)
{
    public double Value => MeanTerm + TraceA + TraceB - 2 * TraceSqrtProduct;
}

/// <summary>
/// Fréchet Inception Distance (metrics-spec §3): ‖μa − μb‖² + Tr Σa + Tr Σb − 2 Tr √(Σa Σb), with the
/// square-root trace from the backend's symmetric PSD formulation (eigenvalues clamped at 0), which equals
/// scipy's sqrtm route wherever that one succeeds and stays finite where it does not.
/// </summary>
public static class Fid
{
    public static double FromStatistics(GaussianStatistics a, GaussianStatistics b, IComputeBackend backend) =>
        Terms(a, b, backend).Value;

    public static FidTerms Terms(GaussianStatistics a, GaussianStatistics b, IComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(backend);
        if (a.Dim != b.Dim)
            throw new InputException($"{a.Name} has dimension {a.Dim} but {b.Name} has dimension {b.Dim}: FID needs statistics of the same features");
        EnsureFinite(a);
        EnsureFinite(b);
        int dim = a.Dim;
        double meanTerm = 0;
        for (int i = 0; i < dim; i++)
        {
            double diff = a.Mean[i] - b.Mean[i];
            meanTerm += diff * diff;
        }
        double traceA = 0, traceB = 0;
        for (int i = 0; i < dim; i++)
        {
            traceA += a.Covariance[(long)i * dim + i];
            traceB += b.Covariance[(long)i * dim + i];
        }
        double cross = backend.TraceSqrtProduct(a.Covariance, b.Covariance, dim);
        var terms = new FidTerms(meanTerm, traceA, traceB, cross);
        if (!double.IsFinite(terms.Value))
            throw new InputException($"fid: the result for {a.Name} and {b.Name} is not finite ({terms}): the statistics' magnitudes overflow float64 arithmetic");
        return terms;
    }

    private static void EnsureFinite(GaussianStatistics s)
    {
        foreach (double v in s.Mean)
            if (!double.IsFinite(v)) throw InputException.For(s.Name, $"mean contains {v}");
        foreach (double v in s.Covariance)
            if (!double.IsFinite(v)) throw InputException.For(s.Name, $"covariance contains {v}");
    }
}
