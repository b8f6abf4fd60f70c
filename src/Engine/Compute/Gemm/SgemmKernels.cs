using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenMetrics.Compute.Gemm;

/// <summary>Which micro-kernel the SGEMM uses. Tests force each one that the machine supports.</summary>
internal enum SgemmIsa
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>
/// Register-blocked micro-kernels: an MR x NR tile of C from a packed A micro-panel ([k][MR]) and a packed
/// B micro-panel ([k][NR]). Every C element is one FMA chain over k starting from 0, per lane, and is then
/// stored (first K block) or added to C (later K blocks). <see cref="SgemmWorkspace.SquaredNorm"/> repeats
/// exactly that sequence, which is what makes d²(a, a) come out as exactly 0.
/// </summary>
internal static unsafe class SgemmKernels
{
    /// <summary>Columns of a micro-tile, the same for every kernel so packing of B is shared.</summary>
    public const int NR = 32;

    public static SgemmIsa Best =>
        Vector512.IsHardwareAccelerated ? SgemmIsa.Vector512 :
        Vector256.IsHardwareAccelerated ? SgemmIsa.Vector256 : SgemmIsa.Scalar;

    public static bool IsSupported(SgemmIsa isa) => isa switch
    {
        SgemmIsa.Vector512 => Vector512.IsHardwareAccelerated,
        SgemmIsa.Vector256 => Vector256.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>Rows of a micro-tile: as many as keep the accumulators in registers.</summary>
    public static int RowsPerTile(SgemmIsa isa) => isa switch
    {
        SgemmIsa.Vector512 => 8,   // 16 zmm accumulators + 2 B vectors + 1 broadcast, of 32 registers
        SgemmIsa.Vector256 => 3,   // 12 ymm accumulators + 1 B vector + broadcasts, of 16 registers (AVX2)
        _ => 4,
    };

    public static void Run(SgemmIsa isa, float* ap, float* bp, int kc, float* c, int ldc, bool accumulate)
    {
        switch (isa)
        {
            case SgemmIsa.Vector512: Kernel8x32Vector512(ap, bp, kc, c, ldc, accumulate); break;
            case SgemmIsa.Vector256: Kernel3x32Vector256(ap, bp, kc, c, ldc, accumulate); break;
            default: Kernel4x32Scalar(ap, bp, kc, c, ldc, accumulate); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> acc, float* c, bool accumulate)
    {
        if (accumulate) acc = Vector512.Load(c) + acc;
        acc.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> acc, float* c, bool accumulate)
    {
        if (accumulate) acc = Vector256.Load(c) + acc;
        acc.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32Vector512(float* ap, float* bp, int kc, float* c, int ldc, bool accumulate)
    {
        // The C tile is usually far away (L3: the tile of one K block is swept per block); ask for it now so
        // that the 16 lines arrive during the FMA loop instead of stalling the stores at the end.
        if (Sse.IsSupported)
        {
            for (int i = 0; i < 8; i++)
            {
                Sse.Prefetch0(c + (long)i * ldc);
                Sse.Prefetch0(c + (long)i * ldc + 16);
            }
        }
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var a = Vector512.Create(ap[0]);
            c00 = Vector512.FusedMultiplyAdd(a, b0, c00); c01 = Vector512.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(ap[1]);
            c10 = Vector512.FusedMultiplyAdd(a, b0, c10); c11 = Vector512.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(ap[2]);
            c20 = Vector512.FusedMultiplyAdd(a, b0, c20); c21 = Vector512.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(ap[3]);
            c30 = Vector512.FusedMultiplyAdd(a, b0, c30); c31 = Vector512.FusedMultiplyAdd(a, b1, c31);
            a = Vector512.Create(ap[4]);
            c40 = Vector512.FusedMultiplyAdd(a, b0, c40); c41 = Vector512.FusedMultiplyAdd(a, b1, c41);
            a = Vector512.Create(ap[5]);
            c50 = Vector512.FusedMultiplyAdd(a, b0, c50); c51 = Vector512.FusedMultiplyAdd(a, b1, c51);
            a = Vector512.Create(ap[6]);
            c60 = Vector512.FusedMultiplyAdd(a, b0, c60); c61 = Vector512.FusedMultiplyAdd(a, b1, c61);
            a = Vector512.Create(ap[7]);
            c70 = Vector512.FusedMultiplyAdd(a, b0, c70); c71 = Vector512.FusedMultiplyAdd(a, b1, c71);
            ap += 8;
            bp += NR;
        }
        Store(c00, c, accumulate); Store(c01, c + 16, accumulate); c += ldc;
        Store(c10, c, accumulate); Store(c11, c + 16, accumulate); c += ldc;
        Store(c20, c, accumulate); Store(c21, c + 16, accumulate); c += ldc;
        Store(c30, c, accumulate); Store(c31, c + 16, accumulate); c += ldc;
        Store(c40, c, accumulate); Store(c41, c + 16, accumulate); c += ldc;
        Store(c50, c, accumulate); Store(c51, c + 16, accumulate); c += ldc;
        Store(c60, c, accumulate); Store(c61, c + 16, accumulate); c += ldc;
        Store(c70, c, accumulate); Store(c71, c + 16, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel3x32Vector256(float* ap, float* bp, int kc, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        for (int k = 0; k < kc; k++)
        {
            var a0 = Vector256.Create(ap[0]);
            var a1 = Vector256.Create(ap[1]);
            var a2 = Vector256.Create(ap[2]);
            var b = Vector256.Load(bp);
            c00 = Vector256.FusedMultiplyAdd(a0, b, c00); c10 = Vector256.FusedMultiplyAdd(a1, b, c10); c20 = Vector256.FusedMultiplyAdd(a2, b, c20);
            b = Vector256.Load(bp + 8);
            c01 = Vector256.FusedMultiplyAdd(a0, b, c01); c11 = Vector256.FusedMultiplyAdd(a1, b, c11); c21 = Vector256.FusedMultiplyAdd(a2, b, c21);
            b = Vector256.Load(bp + 16);
            c02 = Vector256.FusedMultiplyAdd(a0, b, c02); c12 = Vector256.FusedMultiplyAdd(a1, b, c12); c22 = Vector256.FusedMultiplyAdd(a2, b, c22);
            b = Vector256.Load(bp + 24);
            c03 = Vector256.FusedMultiplyAdd(a0, b, c03); c13 = Vector256.FusedMultiplyAdd(a1, b, c13); c23 = Vector256.FusedMultiplyAdd(a2, b, c23);
            ap += 3;
            bp += NR;
        }
        Store(c00, c, accumulate); Store(c01, c + 8, accumulate); Store(c02, c + 16, accumulate); Store(c03, c + 24, accumulate); c += ldc;
        Store(c10, c, accumulate); Store(c11, c + 8, accumulate); Store(c12, c + 16, accumulate); Store(c13, c + 24, accumulate); c += ldc;
        Store(c20, c, accumulate); Store(c21, c + 8, accumulate); Store(c22, c + 16, accumulate); Store(c23, c + 24, accumulate);
    }

    // Portable path (no 256-bit SIMD): MathF.FusedMultiplyAdd keeps the per-element rounding identical to the
    // SIMD kernels (single rounding per step), so the exact-zero property holds on every path.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x32Scalar(float* ap, float* bp, int kc, float* c, int ldc, bool accumulate)
    {
        const int mr = 4;
        float* acc = stackalloc float[mr * NR];
        new Span<float>(acc, mr * NR).Clear();
        for (int k = 0; k < kc; k++)
        {
            for (int i = 0; i < mr; i++)
            {
                float a = ap[i];
                float* row = acc + i * NR;
                for (int j = 0; j < NR; j++) row[j] = MathF.FusedMultiplyAdd(a, bp[j], row[j]);
            }
            ap += mr;
            bp += NR;
        }
        for (int i = 0; i < mr; i++)
        {
            float* dst = c + i * ldc;
            float* row = acc + i * NR;
            for (int j = 0; j < NR; j++) dst[j] = accumulate ? dst[j] + row[j] : row[j];
        }
    }
}
