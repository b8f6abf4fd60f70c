using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenMetrics.Linalg;

/// <summary>Small float64 vector kernels shared by the factorisations (Cholesky, tridiagonalisation).</summary>
internal static unsafe class DoubleVectors
{
    /// <summary>Σ x[i]·y[i], two FMA accumulators of four lanes, then the scalar remainder.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Dot(double* x, double* y, int count)
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
