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
        // L and T come from the shared pool: at D = 2048 a fresh 32 MiB array costs ~8192 first-touch page
        // faults, more than its DGEMM's flops on a virtual machine; the statistics' PSD checks have just
        // returned buffers of this size. Pooled arrays may be longer than asked and hold old values.
        var pool = ArrayPool<double>.Shared;
        var l = pool.Rent(checked((int)size));
        double[]? t = null;
        try
        {
            Array.Copy(sigmaB, l, size);
            int r;
            double[] aPerm;
            // Full-rank Σb (the usual case, N > D): plain blocked Cholesky at DGEMM speed, no permutation.
            // Numerically singular Σb: the pivoted factorisation, which finds the rank.
            if (BlockedCholesky.TryFactor(l, n))
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
            // L's strict upper part (columns j > i, j < r) still holds junk from the factorisation.
            for (int i = 0; i < Math.Min(r, n); i++)
                for (int j = i + 1; j < r; j++) l[(long)i * n + j] = 0;

            // T = A' L (n x r); L(p, j) = 0 for p < j, so column block [j0, j1) only needs rows p ≥ j0.
            t = pool.Rent(checked((int)((long)n * r)));
            Array.Clear(t, 0, (int)((long)n * r));
            for (int j0 = 0; j0 < r; j0 += Block)
            {
                int jb = Math.Min(Block, r - j0);
                Dgemm.MultiplyAdd(n, jb, n - j0, 1.0, aPerm, j0, n, 1, l, (long)j0 * n + j0, n, 1, t, j0, r);
            }
            // C = Lᵀ T (r x r, lower triangle); row block [i0, i1) of Lᵀ only has columns p ≥ i0, so it reads
            // T's rows from i0 on and can overwrite T's rows [i0, i1) once computed: C lives in T's storage
            // (one D x D buffer less: at D = 2048 a fresh 32 MiB array costs more than its DGEMM's page faults).
            var c = t;
            var rowBlock = new double[(long)Math.Min(Block, r) * r];
            for (int i0 = 0; i0 < r; i0 += Block)
            {
                int ib = Math.Min(Block, r - i0);
                int cols = Math.Min(r, i0 + ib);
                Array.Clear(rowBlock);
                Dgemm.MultiplyAdd(ib, cols, n - i0, 1.0, l, (long)i0 * n + i0, 1, n, t, (long)i0 * r, r, 1, rowBlock, 0, r);
                for (int i = 0; i < ib; i++) Array.Copy(rowBlock, (long)i * r, c, (long)(i0 + i) * r, cols);
            }
            for (int i = 0; i < r; i++)
                for (int j = i + 1; j < r; j++) c[(long)i * r + j] = c[(long)j * r + i];

            var eigenvalues = SymmetricEigenvalues.Compute(c, r);
            double sum = 0;
            foreach (double lambda in eigenvalues) sum += Math.Sqrt(Math.Max(lambda, 0));
            return sum;
        }
        finally
        {
            pool.Return(l);
            if (t is not null) pool.Return(t);
        }
    }
}
