namespace GenMetrics.Features;

/// <summary>
/// Mean and covariance of a feature set (float64), as TTUR and pytorch-fid store them (`mu` [D],
/// `sigma` [D, D]). <see cref="Count"/> is the number of samples, 0 when unknown (read from a stats file).
/// </summary>
public sealed class GaussianStatistics
{
    public GaussianStatistics(double[] mean, double[] covariance, long count = 0, string name = "statistics")
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(covariance);
        if ((long)mean.Length * mean.Length != covariance.LongLength)
            throw new ArgumentException($"covariance has {covariance.Length} values; a mean of length {mean.Length} needs {(long)mean.Length * mean.Length}");
        Mean = mean;
        Covariance = covariance;
        Count = count;
        Name = name;
    }

    public int Dim => Mean.Length;
    public double[] Mean { get; }

    /// <summary>Row-major D x D.</summary>
    public double[] Covariance { get; }

    public long Count { get; }
    public string Name { get; }
}

/// <summary>Divisor of the sample covariance: N − 1 (numpy's np.cov; every reference but one) or N (StyleGAN2-ADA).</summary>
public enum CovarianceDivisor
{
    NMinusOne,
    N,
}
