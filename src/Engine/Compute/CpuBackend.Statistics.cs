using GenMetrics.Features;
using GenMetrics.Linalg;

namespace GenMetrics.Compute;

public sealed partial class CpuBackend
{
    /// <summary>Rows per block when streaming statistics: 1024 x 2048 doubles is 16 MiB.</summary>
    internal const int StatisticsBlockRows = 1024;

    public GaussianStatistics ComputeStatistics(IRowBlockSource source, CovarianceDivisor divisor, IProgress<double>? progress = null) =>
        ComputeStatistics(source, divisor, StatisticsBlockRows, progress);

    /// <summary>
    /// Shifted one-pass mean and covariance. Summing x xᵀ and subtracting N μμᵀ at the end (StyleGAN2-ADA's
    /// formula) cancels catastrophically when |μ| ≫ σ; shifting every row by s = the mean of the first block
    /// makes the sums those of nearly centred data, so the final correction n·d·dᵀ (d = μ − s) is tiny and the
    /// result matches np.cov's two-pass values to a few ulps of the covariance scale.
    /// </summary>
    internal static GaussianStatistics ComputeStatistics(IRowBlockSource source, CovarianceDivisor divisor, int blockRows,
        IProgress<double>? progress)
    {
        ArgumentNullException.ThrowIfNull(source);
        int n = source.Rows, dim = source.Dim;
        if (n < 2)
            throw InputException.For(source.Name, $"{n} sample(s): a covariance needs at least 2");
        if (dim <= 0)
            throw InputException.For(source.Name, $"feature dimension {dim} is not positive");

        double[]? shift = null;
        var sum = new double[dim];
        var scatter = new double[(long)dim * dim];
        double[] centred = new double[(long)Math.Min(blockRows, n) * dim];
        long seen = 0;
        foreach (var block in source.EnumerateBlocks(blockRows))
        {
            int rows = block.Count;
            var data = block.Data;
            if (rows == 0) continue;
            if (block.Dim != dim) throw new InvalidOperationException($"{source.Name}: block of dimension {block.Dim}, expected {dim}");
            for (long i = 0; i < (long)rows * dim; i++)
            {
                if (!double.IsFinite(data[i]))
                    throw InputException.For(source.Name,
                        $"value at row {block.Start + i / dim}, column {i % dim} is {data[i]} (features must be finite)");
            }
            if (shift is null)
            {
                shift = new double[dim];
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < dim; j++) shift[j] += data[(long)r * dim + j];
                for (int j = 0; j < dim; j++) shift[j] /= rows;
            }
            if (centred.LongLength < (long)rows * dim) centred = new double[(long)rows * dim];
            for (int r = 0; r < rows; r++)
            {
                long o = (long)r * dim;
                for (int j = 0; j < dim; j++)
                {
                    double y = data[o + j] - shift[j];
                    centred[o + j] = y;
                    sum[j] += y;
                }
            }
            // scatter += Yᵀ Y: op(A)(i, p) = Y[p, i], op(B)(p, j) = Y[p, j]; lower triangle only.
            Dgemm.MultiplyAdd(dim, dim, rows, 1.0, centred, 0, 1, dim, centred, 0, dim, 1, scatter, 0, dim, lowerOnly: true);
            seen += rows;
            progress?.Report((double)seen / n);
        }
        if (seen != n || shift is null)
            throw InputException.For(source.Name, $"delivered {seen} rows, expected {n}");

        var mean = new double[dim];
        var delta = new double[dim];
        for (int j = 0; j < dim; j++)
        {
            delta[j] = sum[j] / n;
            mean[j] = shift[j] + delta[j];
        }
        double denominator = divisor == CovarianceDivisor.N ? n : n - 1;
        for (int i = 0; i < dim; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double v = (scatter[(long)i * dim + j] - n * delta[i] * delta[j]) / denominator;
                scatter[(long)i * dim + j] = v;
                scatter[(long)j * dim + i] = v;
            }
        }
        return new GaussianStatistics(mean, scatter, n, source.Name);
    }

    public double TraceSqrtProduct(double[] sigmaA, double[] sigmaB, int dim) =>
        Linalg.TraceSqrtProduct.Compute(sigmaA, sigmaB, dim);
}
