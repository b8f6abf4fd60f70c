using System.Buffers;
using System.Runtime.CompilerServices;
namespace GenMetrics.Linalg;

/// <summary>
/// Tr √(Σa Σb) for symmetric positive semi-definite Σa, Σb (float64), the FID cross term.
/// With the Cholesky Σb = P L Lᵀ Pᵀ (plain and blocked when Σb is numerically full rank, P = I; pivoted
/// otherwise, L is D x r, r the numerical rank), Σa Σb is similar to the
/// symmetric PSD C = Lᵀ (Pᵀ Σa P) L (r x r) padded with zeros, so Tr √(Σa Σb) = Σ √max(λᵢ(C), 0).
/// No square root of a non-symmetric matrix is ever formed (scipy's sqrtm route, which fails or returns
/// complex junk when Σ is singular); only a symmetric eigenvalue problem, which is perfectly conditioned.
/// See docs/fid.md.
/// </summary>
internal static unsafe class TraceSqrtProduct
{
    /// <summary>Column width of L handled per GEMM call, so that zeros above L's diagonal are skipped.</summary>
    private const int Block = 256;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Compute(double[] sigmaA, double[] sigmaB, int dim)
    {
        ArgumentNullException.ThrowIfNull(sigmaA);
        ArgumentNullException.ThrowIfNull(sigmaB);
        long size = (long)dim * dim;
        if (dim <= 0 || sigmaA.LongLength != size || sigmaB.LongLength != size)
            throw new ArgumentException($"expected two {dim} x {dim} matrices, got {sigmaA.LongLength} and {sigmaB.LongLength} values");

        int n = dim;
        // L comes from the shared pool (the statistics' PSD checks have just returned a buffer of this size).
        // Pooled arrays may be longer than asked and hold old values.
        var pool = ArrayPool<double>.Shared;
        // The covariance check of a statistics file has usually factored Σb already, with this same routine.
        var kept = CholeskyFactorCache.TryTake(sigmaB, n);
        var l = kept ?? pool.Rent(checked((int)size));
        double[]? tj = null, cj = null;
        try
        {
            int r;
            double[] aPerm;
            // Full-rank Σb (the usual case, N > D): plain blocked Cholesky at DGEMM speed, no permutation.
            // Numerically singular Σb: the pivoted factorisation, which finds the rank.
            if (kept is null) Array.Copy(sigmaB, l, size);
            if (kept is not null || BlockedCholesky.TryFactor(l, n))
            {
                r = n;
                aPerm = sigmaA;
            }
            else
            {
                Array.Copy(sigmaB, l, size);
                var perm = new int[n];
                r = PivotedCholesky.Factor(l, n, perm);
                if (r == 0) return 0;
                aPerm = new double[size];
                for (int i = 0; i < n; i++)
                {
                    long src = (long)perm[i] * n, dst = (long)i * n;
                    for (int j = 0; j < n; j++) aPerm[dst + j] = sigmaA[src + perm[j]];
                }
            }
            PhaseTrace.Mark(kept is not null ? "fid: Σb's factor from its covariance check" : $"fid: Σb factored (rank {r})");
            // L's strict upper part (columns j > i, j < r) still holds junk from the factorisation.
            for (int i = 0; i < Math.Min(r, n); i++)
                for (int j = i + 1; j < r; j++) l[(long)i * n + j] = 0;

            // C = Lᵀ (A' L) (r x r), block column by block column, written over L itself: C's block column
            // [j0, j0 + jb) needs T_J = A' L(:, J) and, as Lᵀ is upper triangular, L's columns from j0 on only;
            // once it is computed, L's block column J is not needed again. So the square-root trace needs one
            // D x D buffer (L, pooled) besides the inputs: at D = 2048 each fresh 32 MiB array costs 8192
            // first-touch page faults, more than its GEMM's flops on a virtual machine.
            // T_J's rows p < j0 are never read: L(p, j) = 0 for p < j, so C(i, J) = Σ_{p ≥ j0} L(p, i) T_J(p, :).
            int panel = Math.Min(Block, r);
            tj = pool.Rent(checked(n * panel));
            cj = pool.Rent(checked(n * panel));
            for (int j0 = 0; j0 < r; j0 += Block)
            {
                int jb = Math.Min(Block, r - j0);
                // T_J(j0.., :) = A'(j0.., j0..) L(j0.., J)  ((n − j0) x jb; rows below j0 of A' L are not needed).
                Array.Clear(tj, 0, (n - j0) * jb);
                Dgemm.MultiplyAdd(n - j0, jb, n - j0, 1.0, aPerm, (long)j0 * n + j0, n, 1, l, (long)j0 * n + j0, n, 1, tj, 0, jb);
                // C(j0.., J) = L(j0.., j0..)ᵀ T_J  ((r − j0) x jb).
                Array.Clear(cj, 0, (r - j0) * jb);
                Dgemm.MultiplyAdd(r - j0, jb, n - j0, 1.0, l, (long)j0 * n + j0, 1, n, tj, 0, jb, 1, cj, 0, jb);
                for (int i = j0; i < r; i++) Array.Copy(cj, (long)(i - j0) * jb, l, (long)i * n + j0, jb);
            }
            // C's rows are n apart in L's storage; the eigenvalue routine wants them r apart (moving forward is safe).
            var c = l;
            if (r < n)
                for (int i = 1; i < r; i++) Array.Copy(c, (long)i * n, c, (long)i * r, r);
            for (int i = 0; i < r; i++)
                for (int j = i + 1; j < r; j++) c[(long)i * r + j] = c[(long)j * r + i];

            PhaseTrace.Mark("fid: C = Lᵀ Σa L");
            var eigenvalues = SymmetricEigenvalues.Compute(c, r);
            PhaseTrace.Mark("fid: eigenvalues of C");
            double sum = 0;
            foreach (double lambda in eigenvalues) sum += Math.Sqrt(Math.Max(lambda, 0));
            return sum;
        }
        finally
        {
            pool.Return(l);
            if (tj is not null) pool.Return(tj);
            if (cj is not null) pool.Return(cj);
        }
    }
}
