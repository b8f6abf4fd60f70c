using GenMetrics.Linalg;

namespace GenMetrics.Features;

/// <summary>
/// Checks that a covariance read from a file is positive semi-definite, as every sample covariance is.
/// FID's square-root trace clamps negative eigenvalues at zero, so an indefinite sigma (a damaged file,
/// a matrix that is not a covariance) would give a number, and a different one for each argument order.
/// </summary>
internal static class CovarianceChecks
{
    const double Float32Epsilon = 1.1920928955078125e-07;

    /// <summary>
    /// The most negative eigenvalue accepted: D · eps(float32) · max diag(Σ). Generous on purpose: a
    /// rank-deficient covariance (fewer samples than features) computed or stored in float32 has
    /// eigenvalues a little below zero from round-off alone, and must not be refused.
    /// </summary>
    public static double Tolerance(double[] sigma, int dim)
    {
        double maxDiag = 0;
        for (int i = 0; i < dim; i++) maxDiag = Math.Max(maxDiag, Math.Abs(sigma[(long)i * dim + i]));
        return Math.Max(dim, 16) * Float32Epsilon * maxDiag;
    }

    /// <summary>
    /// Throws an <see cref="InputException"/> naming <paramref name="source"/>, the smallest eigenvalue and the
    /// tolerance when the symmetric <paramref name="sigma"/> (row-major D x D) has an eigenvalue below
    /// −<see cref="Tolerance"/>. Cost: one blocked Cholesky of Σ + tol·I (D³/3 flops at DGEMM speed); the eigenvalues
    /// are computed only when that and the pivoted one fail, to confirm and report.
    /// </summary>
    public static void EnsurePositiveSemiDefinite(double[] sigma, int dim, string source, string key = "sigma")
    {
        if (dim == 0) return;
        double tol = Tolerance(sigma, dim);
        double smallest = SmallestEigenvalueIfBelow(sigma, dim, tol);
        if (smallest < -tol)
            throw InputException.For(source, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{key} is not positive semi-definite: its smallest eigenvalue is {smallest:G6}, below the tolerance -{tol:G3} (D · float32 eps · max diagonal); a covariance never has negative eigenvalues"));
    }

    /// <summary>The smallest eigenvalue when Σ + tol·I fails to factor, else +∞ (Σ is PSD within tol).</summary>
    internal static double SmallestEigenvalueIfBelow(double[] sigma, int dim, double tol)
    {
        if (tol > 0)
        {
            // Cholesky with positive pivots all the way down proves Σ + tol·I positive definite. The blocked
            // factorisation (DGEMM speed, ~0.05 s at D = 2048) settles every PSD Σ: the pivots of Σ + tol·I are at
            // least tol, far above its D·eps(float64) refusal threshold. Only when it refuses does the pivoted
            // one (~9x slower, accepts any positive pivot) get the final word before the eigenvalues.
            var shifted = Shifted(sigma, dim, tol);
            if (BlockedCholesky.TryFactor(shifted, dim)) return double.PositiveInfinity;
            shifted = Shifted(sigma, dim, tol);
            if (PivotedCholesky.Factor(shifted, dim, new int[dim], tolerance: 0) == dim) return double.PositiveInfinity;
        }
        var eigenvalues = SymmetricEigenvalues.Compute((double[])sigma.Clone(), dim);
        return eigenvalues.Min();
    }

    private static double[] Shifted(double[] sigma, int dim, double tol)
    {
        var shifted = (double[])sigma.Clone();
        for (int i = 0; i < dim; i++) shifted[(long)i * dim + i] += tol;
        return shifted;
    }
}
