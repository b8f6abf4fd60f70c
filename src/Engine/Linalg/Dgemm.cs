using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GenMetrics.Linalg;

/// <summary>
/// Float64 matrix multiply-accumulate C += alpha·op(A)·op(B) for the FID linear algebra (covariance
/// accumulation, Cholesky trailing updates, the congruence Lᵀ Σ L).
/// Operands are described by strides so that transposes cost nothing: op(A)(i, p) = a[i·aRowStride +
/// p·aColStride], op(B)(p, j) = b[p·bRowStride + j·bColStride], C row-major with leading dimension ldc.
/// The classic cache-blocked design: B is packed into KC x NR micro-panels (shared by all threads), each
/// thread packs an MC x KC block of A into MR x KC micro-panels, and a register-blocked micro-kernel of
/// FMAs keeps an MR x NR tile of C in registers. Edge tiles are computed into a zero-padded local tile.
/// With lowerOnly, micro-tiles entirely above the diagonal are skipped (a SYRK when A = Bᵀ): entries above
/// the diagonal inside diagonal tiles are still written and must be ignored or overwritten by the caller.
/// </summary>
internal static unsafe class Dgemm
{
    private static readonly bool UseAvx512 = Vector512.IsHardwareAccelerated;

    /// <summary>Rows of the register tile (broadcast values of A).</summary>
    internal static readonly int MR = UseAvx512 ? 8 : 6;

    /// <summary>Columns of the register tile (two vectors of B).</summary>
    internal static readonly int NR = UseAvx512 ? 16 : 8;

    private const int KC = 256;
    private static readonly int MC = MR * 12;
    private const int NC = 4096;

    /// <summary>Below this many multiply-adds the threading overhead outweighs the gain.</summary>
    private const long ParallelThreshold = 1L << 21;

    public static void MultiplyAdd(
        int m, int n, int k, double alpha,
        double* a, long aRowStride, long aColStride,
        double* b, long bRowStride, long bColStride,
        double* c, long ldc, bool lowerOnly = false)
    {
        if (m <= 0 || n <= 0 || k <= 0 || alpha == 0) return;
        int mr = MR, nr = NR;
        int ncMax = Math.Min(NC, RoundUp(n, nr));
        int kcMax = Math.Min(KC, k);
        nuint packedBBytes = (nuint)((long)ncMax * kcMax * sizeof(double));
        double* packedB = PackingBuffers.TakeB(packedBBytes);
        bool parallel = (long)m * n * k >= ParallelThreshold && Environment.ProcessorCount > 1;
        try
        {
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                // Under lowerOnly, rows above jc contribute nothing to this column panel.
                int iStart = lowerOnly ? jc / mr * mr : 0;
                if (iStart >= m) break;
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    PackB(b + pc * bRowStride + jc * bColStride, bRowStride, bColStride, kc, nc, packedB);
                    int blocks = (m - iStart + MC - 1) / MC;
                    var job = new BlockJob(m, alpha, a, aRowStride, aColStride, c, ldc, lowerOnly,
                        packedB, jc, nc, pc, kc, iStart);
                    if (parallel && blocks > 1)
                        Parallel.For(0, blocks, () => (nint)PackingBuffers.TakeA(),
                            (blk, _, buf) => { job.Run(blk, (double*)buf); return buf; },
                            buf => PackingBuffers.ReturnA((double*)buf));
                    else
                    {
                        double* buf = PackingBuffers.TakeA();
                        try { for (int blk = 0; blk < blocks; blk++) job.Run(blk, buf); }
                        finally { PackingBuffers.ReturnA(buf); }
                    }
                }
            }
        }
        finally
        {
            PackingBuffers.ReturnB(packedB, packedBBytes);
        }
    }

    /// <summary>
    /// The packing buffers, kept between calls: a blocked factorisation or reduction calls DGEMM hundreds of
    /// times, and a fresh packed-B buffer (up to 8 MiB) or packed-A block per call is fresh memory each time
    /// (glibc maps allocations this large and unmaps them on free), i.e. thousands of first-touch page faults
    /// per FID at D = 2048 (perf/NOTES.md, "CLI FID from statistics"). One B buffer and a few A blocks are
    /// kept for the process (at most ~8 MiB + 8 x 192 KiB); callers on other threads at the same time
    /// allocate their own.
    /// </summary>
    private static class PackingBuffers
    {
        private sealed record Block(nint Pointer, nuint Bytes);

        private static Block? cachedB;
        private static readonly nint[] CachedA = new nint[8];

        public static double* TakeB(nuint bytes)
        {
            var block = Interlocked.Exchange(ref cachedB, null);
            if (block is not null && block.Bytes >= bytes) return (double*)block.Pointer;
            if (block is not null) NativeMemory.AlignedFree((void*)block.Pointer);
            return (double*)NativeMemory.AlignedAlloc(bytes, 64);
        }

        public static void ReturnB(double* pointer, nuint bytes)
        {
            var old = Interlocked.Exchange(ref cachedB, null);
            // Keep the larger of the two; free the other.
            if (old is not null && old.Bytes > bytes)
            {
                NativeMemory.AlignedFree(pointer);
                pointer = (double*)old.Pointer;
                bytes = old.Bytes;
            }
            else if (old is not null)
            {
                NativeMemory.AlignedFree((void*)old.Pointer);
            }
            if (Interlocked.CompareExchange(ref cachedB, new Block((nint)pointer, bytes), null) is not null)
                NativeMemory.AlignedFree(pointer);
        }

        public static double* TakeA()
        {
            for (int i = 0; i < CachedA.Length; i++)
            {
                nint p = Interlocked.Exchange(ref CachedA[i], 0);
                if (p != 0) return (double*)p;
            }
            return (double*)NativeMemory.AlignedAlloc((nuint)(MC * KC * sizeof(double)), 64);
        }

        public static void ReturnA(double* pointer)
        {
            for (int i = 0; i < CachedA.Length; i++)
                if (Interlocked.CompareExchange(ref CachedA[i], (nint)pointer, 0) == 0) return;
            NativeMemory.AlignedFree(pointer);
        }
    }

    /// <summary>Array convenience over <see cref="MultiplyAdd(int,int,int,double,double*,long,long,double*,long,long,double*,long,bool)"/>.</summary>
    public static void MultiplyAdd(
        int m, int n, int k, double alpha,
        double[] a, long aOffset, long aRowStride, long aColStride,
        double[] b, long bOffset, long bRowStride, long bColStride,
        double[] c, long cOffset, long ldc, bool lowerOnly = false)
    {
        fixed (double* pa = a, pb = b, pc = c)
            MultiplyAdd(m, n, k, alpha, pa + aOffset, aRowStride, aColStride, pb + bOffset, bRowStride, bColStride,
                pc + cOffset, ldc, lowerOnly);
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private readonly struct BlockJob(
        int m, double alpha, double* a, long aRowStride, long aColStride, double* c, long ldc,
        bool lowerOnly, double* packedB, int jc, int nc, int pc, int kc, int iStart)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int blk, double* packedA)
        {
            int mr = MR, nr = NR;
            int ic = iStart + blk * MC;
            int mc = Math.Min(MC, m - ic);
            // Whole block above the diagonal of this column panel: nothing to do.
            if (lowerOnly && ic + mc - 1 < jc) return;
            PackA(a + ic * aRowStride + pc * aColStride, aRowStride, aColStride, mc, kc, packedA);
            double* tile = stackalloc double[MR * NR];
            for (int jr = 0; jr < nc; jr += nr)
            {
                int nBlock = Math.Min(nr, nc - jr);
                double* bPanel = packedB + (long)jr * kc;
                for (int ir = 0; ir < mc; ir += mr)
                {
                    int i0 = ic + ir, j0 = jc + jr;
                    if (lowerOnly && j0 > i0 + mr - 1) continue;
                    int mBlock = Math.Min(mr, mc - ir);
                    double* aPanel = packedA + (long)ir * kc;
                    double* cTile = c + i0 * ldc + j0;
                    if (mBlock == mr && nBlock == nr)
                        Kernel(kc, alpha, aPanel, bPanel, cTile, ldc);
                    else
                    {
                        new Span<double>(tile, mr * nr).Clear();
                        Kernel(kc, alpha, aPanel, bPanel, tile, nr);
                        for (int i = 0; i < mBlock; i++)
                            for (int j = 0; j < nBlock; j++)
                                cTile[i * ldc + j] += tile[i * nr + j];
                    }
                }
            }
        }
    }

    /// <summary>Packs op(B)[0..kc, 0..nc) into NR-wide micro-panels, p-major inside each, zero padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(double* b, long rowStride, long colStride, int kc, int nc, double* dst)
    {
        int nr = NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int w = Math.Min(nr, nc - jr);
            double* panel = dst + (long)jr * kc;
            if (colStride == 1 && w == nr)
            {
                for (int p = 0; p < kc; p++)
                    new ReadOnlySpan<double>(b + p * rowStride + jr, nr).CopyTo(new Span<double>(panel + p * nr, nr));
                continue;
            }
            for (int p = 0; p < kc; p++)
            {
                double* src = b + p * rowStride + jr * colStride;
                double* d = panel + p * nr;
                int j = 0;
                for (; j < w; j++) d[j] = src[j * colStride];
                for (; j < nr; j++) d[j] = 0;
            }
        }
    }

    /// <summary>Packs op(A)[0..mc, 0..kc) into MR-tall micro-panels, p-major inside each, zero padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(double* a, long rowStride, long colStride, int mc, int kc, double* dst)
    {
        int mr = MR;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int h = Math.Min(mr, mc - ir);
            double* panel = dst + (long)ir * kc;
            if (rowStride == 1 && h == mr)
            {
                // Column-contiguous source (the XᵀX case): each p copies MR consecutive values.
                for (int p = 0; p < kc; p++)
                    new ReadOnlySpan<double>(a + ir + p * colStride, mr).CopyTo(new Span<double>(panel + p * mr, mr));
                continue;
            }
            for (int i = 0; i < h; i++)
            {
                double* src = a + (ir + i) * rowStride;
                for (int p = 0; p < kc; p++) panel[p * mr + i] = src[p * colStride];
            }
            for (int i = h; i < mr; i++)
                for (int p = 0; p < kc; p++) panel[p * mr + i] = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(int kc, double alpha, double* a, double* b, double* c, long ldc)
    {
        if (UseAvx512) Kernel8x16(kc, alpha, a, b, c, ldc);
        else Kernel6x8(kc, alpha, a, b, c, ldc);
    }

    /// <summary>8 x 16 tile in 16 zmm accumulators: per p, two loads of B, eight broadcasts of A, 16 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x16(int kc, double alpha, double* a, double* b, double* c, long ldc)
    {
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 8);
            var x = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += 8;
            b += 16;
        }
        var al = Vector512.Create(alpha);
        Store(c, al, c00, c01); Store(c + ldc, al, c10, c11); Store(c + 2 * ldc, al, c20, c21); Store(c + 3 * ldc, al, c30, c31);
        Store(c + 4 * ldc, al, c40, c41); Store(c + 5 * ldc, al, c50, c51); Store(c + 6 * ldc, al, c60, c61); Store(c + 7 * ldc, al, c70, c71);

        static void Store(double* row, Vector512<double> al, Vector512<double> v0, Vector512<double> v1)
        {
            Vector512.FusedMultiplyAdd(al, v0, Vector512.Load(row)).Store(row);
            Vector512.FusedMultiplyAdd(al, v1, Vector512.Load(row + 8)).Store(row + 8);
        }
    }

    /// <summary>6 x 8 tile in 12 ymm accumulators (AVX2 machines, and the software fallback elsewhere).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x8(int kc, double alpha, double* a, double* b, double* c, long ldc)
    {
        Vector256<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 4);
            var x = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += 6;
            b += 8;
        }
        var al = Vector256.Create(alpha);
        Store(c, al, c00, c01); Store(c + ldc, al, c10, c11); Store(c + 2 * ldc, al, c20, c21);
        Store(c + 3 * ldc, al, c30, c31); Store(c + 4 * ldc, al, c40, c41); Store(c + 5 * ldc, al, c50, c51);

        static void Store(double* row, Vector256<double> al, Vector256<double> v0, Vector256<double> v1)
        {
            Vector256.FusedMultiplyAdd(al, v0, Vector256.Load(row)).Store(row);
            Vector256.FusedMultiplyAdd(al, v1, Vector256.Load(row + 4)).Store(row + 4);
        }
    }
}
