using System.Runtime.CompilerServices;

namespace GenMetrics.Linalg;

/// <summary>
/// Cholesky factorisation A = L Lᵀ without pivoting, blocked so that nearly all of its D³/3 flops run in the
/// DGEMM micro-kernel: per block column of <see cref="BlockSize"/>, the diagonal block is factored in place,
/// the rows below are solved against it (a recursive triangular solve: halves of the block's columns, the
/// coupling between them by DGEMM, row-by-row solves only 16 columns wide), and the trailing lower
/// triangle gets one DGEMM update. Backward stable for
/// symmetric positive definite input (L Lᵀ = A + E, ‖E‖ = O(D·eps·‖A‖)), as the pivoted version is.
/// Refuses (returns false) as soon as a pivot is not above <c>D·eps·max diag(A)</c>: numerically singular
/// input (e.g. a covariance of N ≤ D samples) then goes to <see cref="PivotedCholesky"/>, which finds the rank.
/// </summary>
internal static unsafe class BlockedCholesky
{
    internal const int BlockSize = 128;

    private const double Epsilon = 2.220446049250313e-16;

    /// <summary>
    /// Factors the row-major <paramref name="a"/> (lower triangle read, overwritten with L; the strict upper
    /// triangle is left as it was). False when a pivot is too small; <paramref name="a"/> is then partly
    /// overwritten and must be restored by the caller.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryFactor(double[] a, int n)
    {
        double maxDiag = 0;
        for (int i = 0; i < n; i++) maxDiag = Math.Max(maxDiag, a[(long)i * n + i]);
        if (!(maxDiag > 0)) return false;
        double tol = n * Epsilon * maxDiag;
        int threads = Math.Max(1, Math.Min(Environment.ProcessorCount, 8));
        fixed (double* pa = a)
        {
            double* A = pa;
            for (int k0 = 0; k0 < n; k0 += BlockSize)
            {
                int k1 = Math.Min(k0 + BlockSize, n);
                // Diagonal block (earlier blocks' updates already applied by the trailing DGEMMs).
                for (int j = k0; j < k1; j++)
                {
                    double* rowJ = A + (long)j * n;
                    double d = rowJ[j] - DoubleVectors.Dot(rowJ + k0, rowJ + k0, j - k0);
                    if (!(d > tol)) return false;
                    double ljj = Math.Sqrt(d);
                    rowJ[j] = ljj;
                    double inv = 1.0 / ljj;
                    for (int i = j + 1; i < k1; i++)
                    {
                        double* rowI = A + (long)i * n;
                        rowI[j] = (rowI[j] - DoubleVectors.Dot(rowI + k0, rowJ + k0, j - k0)) * inv;
                    }
                }
                if (k1 == n) break;
                // L21 = A21 · L11⁻ᵀ, recursively: most of its flops in DGEMM too.
                int rows = n - k1;
                SolveAgainstDiagonalBlock(A, n, k1, rows, k0, k1 - k0, threads);
                // A22 −= L21 L21ᵀ, lower triangle only.
                double* l21 = A + (long)k1 * n + k0;
                Dgemm.MultiplyAdd(rows, rows, k1 - k0, -1.0, l21, n, 1, l21, 1, n, A + (long)k1 * n + k1, n, lowerOnly: true);
            }
        }
        return true;
    }

    /// <summary>Narrowest column range solved row by row; wider ranges are halved, the right half updated by DGEMM.</summary>
    private const int SolveLeaf = 16;

    /// <summary>
    /// X·L(c0.., c0..)ᵀ = A(r0.., c0..) for rows [r0, r0 + rows) and columns [c0, c0 + width), X overwriting A:
    /// solve the left half, subtract its product with the lower-left block of L from the right half (DGEMM),
    /// solve the right half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SolveAgainstDiagonalBlock(double* a, int ld, int r0, int rows, int c0, int width, int threads)
    {
        if (width <= SolveLeaf)
        {
            void Rows(int lo, int hi)
            {
                for (int i = lo; i < hi; i++)
                {
                    double* rowI = a + (long)i * ld;
                    for (int j = c0; j < c0 + width; j++)
                    {
                        double* rowJ = a + (long)j * ld;
                        rowI[j] = (rowI[j] - DoubleVectors.Dot(rowI + c0, rowJ + c0, j - c0)) / rowJ[j];
                    }
                }
            }
            int parts = (long)rows * width * width < 1 << 18 ? 1 : threads;
            if (parts == 1) Rows(r0, r0 + rows);
            else Parallel.For(0, parts, p => Rows(r0 + (int)((long)rows * p / parts), r0 + (int)((long)rows * (p + 1) / parts)));
            return;
        }
        int h = width / 2;
        SolveAgainstDiagonalBlock(a, ld, r0, rows, c0, h, threads);
        // A(rows, c0+h..) −= X(rows, c0..c0+h) · L(c0+h.., c0..c0+h)ᵀ
        Dgemm.MultiplyAdd(rows, width - h, h, -1.0,
            a + (long)r0 * ld + c0, ld, 1,
            a + (long)(c0 + h) * ld + c0, 1, ld,
            a + (long)r0 * ld + c0 + h, ld);
        SolveAgainstDiagonalBlock(a, ld, r0, rows, c0 + h, width - h, threads);
    }
}
