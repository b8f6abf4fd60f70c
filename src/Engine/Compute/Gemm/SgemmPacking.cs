using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenMetrics.Compute.Gemm;

/// <summary>
/// Packing is a transpose: rows of A or B (K contiguous) become micro-panels [k][rows]. Done element by
/// element it cost 5 cycles per value (strided stores, one per cache line) and took 30% of the GEMM time,
/// so full 8 x 8 blocks go through registers with AVX shuffles; edges stay scalar.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>
    /// dst[p * dstStride + j] = src[j * ld + p] − shift[p] for j &lt; rows, p &lt; kc; shift may be null.
    /// The subtraction is the same single float32 operation in both paths (the norms rely on it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, int rows, long ld, int kc, float* shift, float* dst, int dstStride)
    {
        int j0 = 0;
        if (Avx.IsSupported)
        {
            int kcFull = kc & ~7;
            for (; j0 + 8 <= rows; j0 += 8)
            {
                float* s = src + j0 * ld;
                for (int p = 0; p < kcFull; p += 8)
                    Transpose8x8(s + p, ld, shift is null ? null : shift + p, dst + (long)p * dstStride + j0, dstStride);
                for (int j = 0; j < 8; j++) TransposeScalar(s + j * ld, kcFull, kc, shift, dst + j0 + j, dstStride);
            }
        }
        for (int j = j0; j < rows; j++) TransposeScalar(src + j * ld, 0, kc, shift, dst + j, dstStride);
    }

    private static void TransposeScalar(float* row, int from, int to, float* shift, float* dst, int dstStride)
    {
        if (shift is null) for (int p = from; p < to; p++) dst[(long)p * dstStride] = row[p];
        else for (int p = from; p < to; p++) dst[(long)p * dstStride] = row[p] - shift[p];
    }

    /// <summary>
    /// One 8 x 8 block through registers (unpack, shuffle, swap 128-bit halves): d[p * dstStride + j] =
    /// s[j * ld + p] − shift[p] for j, p &lt; 8; shift may be null. Needs AVX. Also the transposes of the
    /// clean (PIL bicubic) resize, <see cref="Imaging.Resampling"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* s, long ld, float* shift, float* d, long dstStride)
    {
        var r0 = Avx.LoadVector256(s);
        var r1 = Avx.LoadVector256(s + ld);
        var r2 = Avx.LoadVector256(s + 2 * ld);
        var r3 = Avx.LoadVector256(s + 3 * ld);
        var r4 = Avx.LoadVector256(s + 4 * ld);
        var r5 = Avx.LoadVector256(s + 5 * ld);
        var r6 = Avx.LoadVector256(s + 6 * ld);
        var r7 = Avx.LoadVector256(s + 7 * ld);
        if (shift is not null)
        {
            var sv = Avx.LoadVector256(shift);
            r0 -= sv; r1 -= sv; r2 -= sv; r3 -= sv; r4 -= sv; r5 -= sv; r6 -= sv; r7 -= sv;
        }
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
