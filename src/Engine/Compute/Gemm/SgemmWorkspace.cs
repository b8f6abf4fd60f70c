using System.Runtime.CompilerServices;

namespace GenMetrics.Compute.Gemm;

/// <summary>
/// Single-threaded, cache-blocked SGEMM C = (A − s)(B − s)ᵀ for row-major A [m, k] and B [n, k] (rows are
/// samples), with its own packing buffers. Loop nest (BLIS style, for C = A·Bᵀ):
/// row panels of MC rows, K blocks of KC: pack A panel (MC x KC, lives in L2) as MR-row micro-panels [k][MR];
/// then per NR columns pack a B micro-panel (KC x NR, lives in L1) as [k][NR] and sweep the A micro-panels.
/// The optional shift s is subtracted while packing, so it costs nothing in the kernel.
/// </summary>
internal sealed unsafe class SgemmWorkspace
{
    /// <summary>K block length. Also the blocking of <see cref="SquaredNorm"/>: they must agree.</summary>
    public const int KC = 256;

    /// <summary>Rows of A packed at once (MC x KC floats = 512 KiB, half of this CPU's 1 MiB L2): each packed B micro-panel then serves 64 kernel calls, which halved the remaining packing overhead.</summary>
    public const int MC = 512;

    private const int NR = SgemmKernels.NR;

    private readonly SgemmIsa _isa;
    private readonly int _mr;
    // Pinned (never moved by the GC) and 64-byte aligned by offsetting into a slightly larger array.
    private readonly float[] _aStorage;
    private readonly float[] _bStorage;
    private readonly float[] _edgeStorage;
    private readonly float* _ap;
    private readonly float* _bp;
    private readonly float* _edge;

    public SgemmWorkspace() : this(SgemmKernels.Best) { }

    public SgemmWorkspace(SgemmIsa isa)
    {
        if (!SgemmKernels.IsSupported(isa)) throw new PlatformNotSupportedException($"{isa} is not accelerated here");
        _isa = isa;
        _mr = SgemmKernels.RowsPerTile(isa);
        int mcRounded = (MC + _mr - 1) / _mr * _mr;
        _ap = Allocate(mcRounded * KC, out _aStorage);
        _bp = Allocate(NR * KC, out _bStorage);
        _edge = Allocate(_mr * NR, out _edgeStorage);
    }

    public SgemmIsa Isa => _isa;

    private static float* Allocate(int length, out float[] storage)
    {
        storage = GC.AllocateArray<float>(length + 16, pinned: true);
        nint p = (nint)Unsafe.AsPointer(ref storage[0]);
        return (float*)((p + 63) & ~(nint)63);
    }

    /// <summary>
    /// C[i * ldc + j] = Σ_k (A[i, k] − s[k]) (B[j, k] − s[k]) for i &lt; m, j &lt; n; A and B rows have stride k.
    /// <paramref name="shift"/> may be null (no shift).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Multiply(float* a, int m, float* b, int n, int k, float* shift, float* c, int ldc)
    {
        for (int ic = 0; ic < m; ic += MC)
        {
            int mc = Math.Min(MC, m - ic);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                bool accumulate = pc > 0;
                float* blockShift = shift is null ? null : shift + pc;
                PackA(a + (long)ic * k + pc, mc, k, kc, blockShift);
                for (int jc = 0; jc < n; jc += NR)
                {
                    int nr = Math.Min(NR, n - jc);
                    PackB(b + (long)jc * k + pc, nr, k, kc, blockShift);
                    for (int ir = 0; ir < mc; ir += _mr)
                    {
                        int mr = Math.Min(_mr, mc - ir);
                        float* cTile = c + (long)(ic + ir) * ldc + jc;
                        float* apPanel = _ap + ir * kc;
                        if (mr == _mr && nr == NR)
                        {
                            SgemmKernels.Run(_isa, apPanel, _bp, kc, cTile, ldc, accumulate);
                        }
                        else
                        {
                            // Edge tile: full kernel into a scratch tile, then copy (or add) the valid part,
                            // with the same single addition per K block as the kernel does.
                            SgemmKernels.Run(_isa, apPanel, _bp, kc, _edge, NR, accumulate: false);
                            for (int i = 0; i < mr; i++)
                            {
                                float* dst = cTile + (long)i * ldc;
                                float* src = _edge + i * NR;
                                if (accumulate) for (int j = 0; j < nr; j++) dst[j] += src[j];
                                else for (int j = 0; j < nr; j++) dst[j] = src[j];
                            }
                        }
                    }
                }
            }
        }
    }

    // A rows [mc, kc] (stride lda) into micro-panels of _mr rows, each [kc][_mr]; missing rows are zero.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackA(float* a, int mc, int lda, int kc, float* shift)
    {
        int mr = _mr;
        for (int ir = 0; ir < mc; ir += mr)
        {
            float* panel = _ap + ir * kc;
            int rows = Math.Min(mr, mc - ir);
            SgemmPacking.Transpose(a + (long)ir * lda, rows, lda, kc, shift, panel, mr);
            for (int i = rows; i < mr; i++)
                for (int p = 0; p < kc; p++) panel[p * mr + i] = 0f;
        }
    }

    // B rows [nr, kc] (stride ldb) into one micro-panel [kc][NR]; missing columns are zero.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackB(float* b, int nr, int ldb, int kc, float* shift)
    {
        SgemmPacking.Transpose(b, nr, ldb, kc, shift, _bp, NR);
        for (int j = nr; j < NR; j++)
            for (int p = 0; p < kc; p++) _bp[p * NR + j] = 0f;
    }

    /// <summary>
    /// ‖x − s‖² computed with exactly the float32 operations the kernels use for a dot product: the shift
    /// subtracted the way packing does it, one FMA chain from 0 per K block of <see cref="KC"/>, and the
    /// block sums added left to right. Hence norm(a) + norm(a) − 2·dot(a, a) is exactly 0.
    /// </summary>
    public static float SquaredNorm(float* x, int k, float* shift)
    {
        float total = 0f;
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc);
            float acc = 0f;
            if (shift is null)
            {
                for (int p = 0; p < kc; p++) acc = MathF.FusedMultiplyAdd(x[pc + p], x[pc + p], acc);
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float v = x[pc + p] - shift[pc + p];
                    acc = MathF.FusedMultiplyAdd(v, v, acc);
                }
            }
            total = pc == 0 ? acc : total + acc;
        }
        return total;
    }
}
