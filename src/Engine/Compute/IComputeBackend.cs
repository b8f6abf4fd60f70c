using GenMetrics.Features;

namespace GenMetrics.Compute;

/// <summary>
/// The heavy lifting every metric needs, behind one interface with a CPU and a CUDA implementation.
/// Metrics choose nothing about hardware: they call these and combine the results.
/// All distances are squared Euclidean distances; no N x N matrix is ever stored.
/// </summary>
public interface IComputeBackend : IDisposable
{
    /// <summary>"cpu" or "cuda".</summary>
    string Name { get; }

    /// <summary>One line describing the device (CPU model and cores, or GPU name and memory).</summary>
    string Description { get; }

    /// <summary>
    /// Arithmetic of the distance GEMMs: "fp32" (IEEE float32 products, the CPU's and the reference tools'),
    /// or a faster, less exact one such as "tf32" or "fp16". The k-NN radii and decisions are exact (float64
    /// refinement) whatever it is; only the GEMMs' speed and the number of refined decisions change.
    /// </summary>
    string DistancePrecision => "fp32";

    /// <summary>
    /// For a backend whose <see cref="DistancePrecision"/> is not fp32: a twin on the same device with float32
    /// distance GEMMs, so that callers can check (opt-in) that the cheaper arithmetic changed no membership decision.
    /// Null for an fp32 backend. The caller disposes it.
    /// </summary>
    IComputeBackend? CreateFp32Twin() => null;

    /// <summary>
    /// Lets the backend keep its own copies of <paramref name="sets"/> (a GPU: resident on the device) until the
    /// result is disposed, so that a sequence of calls on the same sets — the k-NN radii of each, then the
    /// cross pass — transfers each set once. The caller must not modify the sets meanwhile. Null when the
    /// backend keeps nothing (the CPU reads the caller's arrays directly).
    /// </summary>
    IDisposable? RetainInputs(params FeatureMatrix[] sets) => null;

    /// <summary>
    /// Squared k-NN radii of every row of <paramref name="x"/> within its own set: for each k in
    /// <paramref name="ks"/> the (k+1)-th smallest squared distance of the row to all rows of x, the row
    /// itself (distance 0) included (metrics-spec §0). Result[kIndex][row]. Requires x.Rows > max(ks).
    /// Exact whatever <see cref="DistancePrecision"/>: equal to the float64 evaluation of Σ(a − b)² of the
    /// row and its (k+1)-th neighbour (the low-precision pass only selects the candidates; see ExactRadii).
    /// </summary>
    KnnRadii KnnRadiiSquared(FeatureMatrix x, IReadOnlyList<int> ks, IProgress<double>? progress = null);

    /// <summary>
    /// One pass over all fake x real squared distances d²(g, r), reducing each tile row-wise (per fake)
    /// and column-wise (per real) to what the k-NN metrics need (see <see cref="CrossRequest"/>). Every membership
    /// decision and the realism maxima equal a float64 evaluation (margins inside the error bound of the
    /// low-precision distance are recomputed in float64 from the rows).
    /// </summary>
    CrossReductions ReduceCrossDistances(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, IProgress<double>? progress = null);

    /// <summary>
    /// Mean and covariance (float64) of the rows of <paramref name="source"/>, streamed in blocks.
    /// </summary>
    GaussianStatistics ComputeStatistics(IRowBlockSource source, CovarianceDivisor divisor, IProgress<double>? progress = null);

    /// <summary>Tr √(Σa Σb) for two symmetric positive semi-definite D x D matrices (row-major), in float64.</summary>
    double TraceSqrtProduct(double[] sigmaA, double[] sigmaB, int dim);

    /// <summary>
    /// C = A·Bᵀ for row-major A [m, dim] and B [n, dim]; C is row-major [m, n]. Used by KID's kernel sums.
    /// </summary>
    void MultiplyTransposed(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int dim, Span<float> c);
}
