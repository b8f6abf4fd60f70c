using System.Buffers;
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
        // The work copy comes from the shared pool: a fresh D x D array costs more in first-touch page faults
        // (8192 per 32 MiB, ~10-30 µs each on a virtual machine) than the factorisation's flops, and FID's
        // square-root trace rents the same buffer right after (perf/NOTES.md, "CLI FID from statistics").
        long size = (long)dim * dim;
        var work = ArrayPool<double>.Shared.Rent(checked((int)size));
        try
        {
            if (tol > 0)
            {
                // Cholesky with positive pivots all the way down proves Σ + tol·I positive definite. The blocked
                // factorisation (DGEMM speed, ~0.05 s at D = 2048) settles every PSD Σ: the pivots of Σ + tol·I are at
                // least tol, far above its D·eps(float64) refusal threshold. Only when it refuses does the pivoted
                // one (~9x slower, accepts any positive pivot) get the final word before the eigenvalues.
                CopyShifted(sigma, work, dim, tol);
                if (BlockedCholesky.TryFactor(work, dim)) return double.PositiveInfinity;
                CopyShifted(sigma, work, dim, tol);
                if (PivotedCholesky.Factor(work, dim, new int[dim], tolerance: 0) == dim) return double.PositiveInfinity;
            }
            Array.Copy(sigma, work, size);
            var eigenvalues = SymmetricEigenvalues.Compute(work, dim);
            return eigenvalues.Min();
        }
        finally
        {
            ArrayPool<double>.Shared.Return(work);
        }
    }

    private static void CopyShifted(double[] sigma, double[] work, int dim, double tol)
    {
        Array.Copy(sigma, work, (long)dim * dim);
        for (int i = 0; i < dim; i++) work[(long)i * dim + i] += tol;
    }
}
