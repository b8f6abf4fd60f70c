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
    /// −<see cref="Tolerance"/>. Cost: one blocked Cholesky of Σ (D³/3 flops at DGEMM speed), which settles every
    /// positive definite Σ; otherwise one of Σ + tol·I, and the eigenvalues only when that and the pivoted one
    /// fail, to confirm and report.
    /// </summary>
    public static void EnsurePositiveSemiDefinite(double[] sigma, int dim, string source, string key = "sigma")
    {
        if (dim == 0) return;
        if (TryFactorPositiveDefinite(sigma, dim)) return;
        double tol = Tolerance(sigma, dim);
        double smallest = SmallestEigenvalueIfBelow(sigma, dim, tol);
        if (smallest < -tol)
            throw InputException.For(source, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{key} is not positive semi-definite: its smallest eigenvalue is {smallest:G6}, below the tolerance -{tol:G3} (D · float32 eps · max diagonal); a covariance never has negative eigenvalues"));
    }

    /// <summary>
    /// The first (row-major) pair i &lt; j where Σ[i, j] and Σ[j, i] differ by more than 1e-6 of the entries'
    /// scale, or null. The scale is the larger of |Σ[i, j]|, |Σ[j, i]| and √|Σ[i, i] Σ[j, j]| (|s_ij| ≤ √(s_ii s_jj)),
    /// so round-off in tiny off-diagonal covariances is not mistaken for asymmetry. Compared in 64 x 64 tiles so
    /// that the transposed reads stay in cache (a plain row-by-row scan reads Σ column-wise, one cache line per
    /// element at D = 2048); only when a tile fails is the first offending pair searched for row by row.
    /// </summary>
    internal static (int I, int J)? FirstAsymmetry(double[] sigma, int d)
    {
        const int Tile = 64;
        bool symmetric = true;
        for (int i0 = 0; i0 < d && symmetric; i0 += Tile)
        {
            int i1 = Math.Min(i0 + Tile, d);
            for (int j0 = i0; j0 < d && symmetric; j0 += Tile)
            {
                int j1 = Math.Min(j0 + Tile, d);
                for (int i = i0; i < i1 && symmetric; i++)
                    for (int j = Math.Max(j0, i + 1); j < j1; j++)
                        if (Asymmetric(sigma, d, i, j)) { symmetric = false; break; }
            }
        }
        if (symmetric) return null;
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++)
                if (Asymmetric(sigma, d, i, j)) return (i, j);
        return null;
    }

    static bool Asymmetric(double[] sigma, int d, int i, int j)
    {
        double a = sigma[(long)i * d + j], b = sigma[(long)j * d + i];
        double scale = Math.Max(Math.Max(Math.Abs(a), Math.Abs(b)), Math.Sqrt(Math.Abs(sigma[(long)i * d + i] * sigma[(long)j * d + j])));
        return Math.Abs(a - b) > 1e-6 * scale;
    }

    /// <summary>
    /// True when the plain blocked Cholesky of Σ itself succeeds: Σ is positive definite, so it passes for any
    /// tolerance ≥ 0 (the usual case, N > D). The factor is kept in <see cref="CholeskyFactorCache"/>: FID's
    /// square-root trace factors its second covariance exactly this way (same routine, same input) and takes it
    /// from there instead of factoring again. A singular or indefinite Σ costs this one failed attempt more.
    /// </summary>
    internal static bool TryFactorPositiveDefinite(double[] sigma, int dim)
    {
        // Clear first: the held factor's pooled buffer (pages already touched) is then the one rented here.
        CholeskyFactorCache.Clear();
        long size = (long)dim * dim;
        var work = ArrayPool<double>.Shared.Rent(checked((int)size));
        Array.Copy(sigma, work, size);
        if (BlockedCholesky.TryFactor(work, dim))
        {
            CholeskyFactorCache.Keep(sigma, dim, work);
            return true;
        }
        ArrayPool<double>.Shared.Return(work);
        return false;
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
