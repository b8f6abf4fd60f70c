using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace GenMetrics.Linalg;

/// <summary>
/// Holds the plain blocked Cholesky factor of the covariance most recently proved positive definite by
/// <see cref="Features.CovarianceChecks"/>, so that FID's square-root trace (<see cref="TraceSqrtProduct"/>),
/// which factors its second covariance the same way, need not copy and factor it again (~0.07 s at D = 2048).
/// One slot only: a D x D factor is 32 MiB at D = 2048, and the next check clears the slot before renting its
/// work buffer, so the pooled buffer (whose pages are already touched) is reused, not a fresh one faulted in.
/// The factor is handed out only for the same array with the same contents: a 64-bit fingerprint of Σ taken
/// when it was factored is compared again (one vectorised pass, ~2–5 ms at D = 2048), so a covariance changed
/// in between through <see cref="Features.GaussianStatistics.Covariance"/> is factored afresh.
/// </summary>
internal static class CholeskyFactorCache
{
    static readonly object Gate = new();
    static double[]? sigma, factor;
    static int dim;
    static ulong fingerprint;

    /// <summary>Keeps <paramref name="pooledFactor"/> (rented from <see cref="ArrayPool{T}.Shared"/>; ownership passes here) as Σ's factor.</summary>
    public static void Keep(double[] covariance, int n, double[] pooledFactor)
    {
        ulong print = Fingerprint(covariance, (long)n * n);
        lock (Gate)
        {
            ReturnHeld();
            (sigma, factor, dim, fingerprint) = (covariance, pooledFactor, n, print);
        }
    }

    /// <summary>The factor kept for <paramref name="covariance"/> if it is unchanged (the caller returns it to the pool), else null.</summary>
    public static double[]? TryTake(double[] covariance, int n)
    {
        double[]? held;
        ulong print;
        lock (Gate)
        {
            if (factor is null || !ReferenceEquals(sigma, covariance) || dim != n) return null;
            held = factor;
            print = fingerprint;
            (sigma, factor) = (null, null);
        }
        if (Fingerprint(covariance, (long)n * n) == print) return held;
        ArrayPool<double>.Shared.Return(held);
        return null;
    }

    /// <summary>Returns any held factor to the pool (before a check rents its work buffer).</summary>
    public static void Clear()
    {
        lock (Gate) ReturnHeld();
    }

    static void ReturnHeld()
    {
        if (factor is not null) ArrayPool<double>.Shared.Return(factor);
        (sigma, factor) = (null, null);
    }

    /// <summary>
    /// An order-sensitive 64-bit hash of the values' bits: per lane h = rotl(h ⊕ v, 13) + K, lanes folded at the end.
    /// Each step is a bijection of h for a given v, so changing any one value always changes the result. Not
    /// cryptographic: it guards against accidental changes, not adversaries.
    /// </summary>
    internal static ulong Fingerprint(double[] values, long count)
    {
        const ulong K = 0x9E3779B97F4A7C15UL;
        var bits = MemoryMarshal.Cast<double, ulong>(values.AsSpan(0, checked((int)count)));
        int i = 0;
        ulong h = 0xCBF29CE484222325UL;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<ulong>.Count)
        {
            var vectors = MemoryMarshal.Cast<ulong, Vector<ulong>>(bits);
            var acc = new Vector<ulong>(h);
            var k = new Vector<ulong>(K);
            foreach (var v in vectors)
            {
                var x = acc ^ v;
                acc = ((x << 13) | (x >> 51)) + k;
            }
            for (int lane = 0; lane < Vector<ulong>.Count; lane++) h = (h ^ acc[lane]) * K;
            i = vectors.Length * Vector<ulong>.Count;
        }
        for (; i < bits.Length; i++) h = BitOperations.RotateLeft(h ^ bits[i], 13) + K;
        return h ^ (h >> 29);
    }
}
