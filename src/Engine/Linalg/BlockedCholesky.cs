using System.Runtime.Intrinsics;

namespace GenMetrics.Linalg;

/// <summary>
/// Cholesky factorisation A = L Lᵀ without pivoting, blocked so that nearly all of its D³/3 flops run in the
/// DGEMM micro-kernel: per block column of <see cref="BlockSize"/>, the diagonal block is factored in place,
/// the rows below are solved against it (row by row, in parallel: a triangular solve whose inner products
/// run over contiguous memory), and the trailing lower triangle gets one DGEMM update. Backward stable for
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
                    double d = rowJ[j] - Dot(rowJ + k0, rowJ + k0, j - k0);
                    if (!(d > tol)) return false;
                    double ljj = Math.Sqrt(d);
                    rowJ[j] = ljj;
                    double inv = 1.0 / ljj;
                    for (int i = j + 1; i < k1; i++)
                    {
                        double* rowI = A + (long)i * n;
                        rowI[j] = (rowI[j] - Dot(rowI + k0, rowJ + k0, j - k0)) * inv;
                    }
                }
                if (k1 == n) break;
                // L21 = A21 · L11⁻ᵀ: row i solves L11 x = a_i (forward substitution over the block's columns).
                int rows = n - k1;
                void Solve(int part, int parts)
                {
                    int lo = k1 + (int)((long)rows * part / parts), hi = k1 + (int)((long)rows * (part + 1) / parts);
                    for (int i = lo; i < hi; i++)
                    {
                        double* rowI = A + (long)i * n;
                        for (int j = k0; j < k1; j++)
                        {
                            double* rowJ = A + (long)j * n;
                            rowI[j] = (rowI[j] - Dot(rowI + k0, rowJ + k0, j - k0)) / rowJ[j];
                        }
                    }
                }
                int parts = (long)rows * BlockSize * BlockSize < 1 << 20 ? 1 : threads;
                if (parts == 1) Solve(0, 1);
                else Parallel.For(0, parts, p => Solve(p, parts));
                // A22 −= L21 L21ᵀ, lower triangle only.
                double* l21 = A + (long)k1 * n + k0;
                Dgemm.MultiplyAdd(rows, rows, k1 - k0, -1.0, l21, n, 1, l21, 1, n, A + (long)k1 * n + k1, n, lowerOnly: true);
            }
        }
        return true;
    }

    private static double Dot(double* x, double* y, int count)
    {
        int i = 0;
        double s = 0;
        if (Vector256.IsHardwareAccelerated && count >= 8)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; i + 8 <= count; i += 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 4), Vector256.Load(y + i + 4), acc1);
            }
            s = Vector256.Sum(acc0 + acc1);
        }
        for (; i < count; i++) s += x[i] * y[i];
        return s;
    }
}
