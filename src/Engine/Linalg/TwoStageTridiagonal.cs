using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenMetrics.Linalg;

/// <summary>
/// Two-stage Householder tridiagonalisation of a real symmetric matrix (eigenvalues only, no vectors), the
/// design of LAPACK's dsytrd_2stage / PLASMA:
/// <list type="number">
/// <item>Dense → band of half-bandwidth b: per panel of b columns, a Householder QR of the b columns below
/// the band, accumulated as Q = I − V T Vᵀ (compact WY), then the two-sided update of the trailing matrix
/// A ← Qᵀ A Q = A − V Wᵀ − W Vᵀ with X = A V T, W = X − ½ V (Tᵀ Vᵀ X). Nearly all of the 4/3·D³ flops are
/// DGEMMs (A·V and one rank-2b update), so the stage runs at matrix-multiply speed instead of the
/// memory-bound symmetric matrix-vector products of the one-stage reduction.</item>
/// <item>Band → tridiagonal by bulge chasing (Lang's scheme, as in Haidar, Ltaief and Dongarra's
/// xHBCEU/xHBREL/xHBLRU kernels): sweep j annihilates column j below the subdiagonal with one reflector of
/// length b, then chases the fill it creates down the band, each step annihilating only the first column
/// of the bulge (the rest is annihilated by the following sweeps). ~6·D²·b flops on b x b blocks that
/// stay in cache.</item>
/// </list>
/// Both stages are orthogonal similarity transforms, so the eigenvalues are backward stable exactly as for
/// the one-stage reduction. Storage: row-major n x n, full symmetric on input; on output only the lower
/// band is meaningful.
/// </summary>
internal static unsafe class TwoStageTridiagonal
{
    /// <summary>Half-bandwidth of the intermediate band (DGEMM inner dimension 2b in stage 1).</summary>
    internal const int DefaultBandwidth = 32;

    /// <summary>Row block of the symmetric product A22·V in stage 1 (one DGEMM pair per block).</summary>
    private const int SymmetricBlock = 256;

    /// <summary>Tridiagonal (d, e) of the symmetric <paramref name="a"/> (full storage, overwritten).</summary>
    public static void Tridiagonalize(double[] a, int n, double[] d, double[] e, int bandwidth = DefaultBandwidth)
    {
        if (bandwidth < 2) throw new ArgumentOutOfRangeException(nameof(bandwidth));
        fixed (double* pa = a)
        {
            ReduceToBand(pa, n, bandwidth);
            ChaseBulges(pa, n, bandwidth);
            for (int i = 0; i < n; i++)
            {
                d[i] = pa[(long)i * n + i];
                e[i] = i + 1 < n ? pa[(long)(i + 1) * n + i] : 0;
            }
        }
    }

    /// <summary>
    /// Stage 1. After panel k0 the columns k0..k0+b−1 hold, below row k0+b, the upper triangular R of the
    /// panel's QR and zeros: the lower band of width b. Only the lower triangle of the trailing matrix is
    /// kept up to date (the upper one is scratch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ReduceToBand(double* a, int n, int b)
    {
        int maxRows = Math.Max(n - b, 1);
        var buffers = new double[(long)maxRows * b * 6 + 3L * b * b + 2L * b];
        fixed (double* pb = buffers)
        {
            double* v = pb;                                // m x b: the reflectors, unit diagonal, zeros above
            double* x = v + (long)maxRows * b;              // m x b: A V, then A V T, then W
            double* vw = x + (long)maxRows * b;             // m x 2b: [V W]
            double* wv = vw + 2L * maxRows * b;             // m x 2b: [W V]
            double* t = wv + 2L * maxRows * b;              // b x b upper triangular T
            double* g = t + (long)b * b;                    // b x b: Vᵀ V, then Vᵀ X
            double* y = g + (long)b * b;                    // b x b: Tᵀ (Vᵀ X)
            double* tau = y + (long)b * b;
            double* beta = tau + b;
            for (int k0 = 0; ; k0 += b)
            {
                int r0 = k0 + b, m = n - r0;
                if (m < 2) break;
                int reflectors = Math.Min(b, m - 1);
                // Panel copy (m x b, ld b) and its unblocked QR.
                for (int i = 0; i < m; i++)
                    new ReadOnlySpan<double>(a + (long)(r0 + i) * n + k0, b).CopyTo(new Span<double>(v + (long)i * b, b));
                PanelQr(v, m, b, reflectors, tau, beta);
                // Band entries back into A (lower triangle): R above its diagonal, β on it, zeros below.
                for (int i = 0; i < m; i++)
                {
                    double* row = a + (long)(r0 + i) * n + k0;
                    double* src = v + (long)i * b;
                    for (int c = 0; c < b; c++)
                        row[c] = i < c ? src[c] : i == c ? (c < reflectors ? beta[c] : src[c]) : 0;
                }
                // V explicit: unit diagonal, zeros above, zero columns past the last reflector.
                for (int i = 0; i < m; i++)
                {
                    double* row = v + (long)i * b;
                    for (int c = 0; c < b; c++)
                        if (c >= reflectors || i < c) row[c] = 0;
                        else if (i == c) row[c] = 1;
                }
                for (int c = reflectors; c < b; c++) tau[c] = 0;
                BuildT(v, m, b, tau, g, t);

                double* a22 = a + (long)r0 * n + r0;
                // X = A22 V T; A22 V from A22's lower triangle, by row blocks I: the stored block row
                // A(I, 0..I) times V, plus the transposed strictly lower blocks A(I, 0..i0)ᵀ V(I) for the
                // rows above. The diagonal block is mirrored first (its upper half is scratch).
                new Span<double>(vw, m * b).Clear();
                for (int i0 = 0; i0 < m; i0 += SymmetricBlock)
                {
                    int i1 = Math.Min(i0 + SymmetricBlock, m);
                    for (int i = i0; i < i1; i++)
                        for (int j = i + 1; j < i1; j++) a22[(long)i * n + j] = a22[(long)j * n + i];
                    Dgemm.MultiplyAdd(i1 - i0, b, i1, 1.0, a22 + (long)i0 * n, n, 1, v, b, 1, vw + (long)i0 * b, b);
                    if (i0 > 0)
                        Dgemm.MultiplyAdd(i0, b, i1 - i0, 1.0, a22 + (long)i0 * n, 1, n, v + (long)i0 * b, b, 1, vw, b);
                }
                new Span<double>(x, m * b).Clear();
                Dgemm.MultiplyAdd(m, b, b, 1.0, vw, b, 1, t, b, 1, x, b);
                // Y = Tᵀ (Vᵀ X); W = X − ½ V Y.
                new Span<double>(g, b * b).Clear();
                Dgemm.MultiplyAdd(b, b, m, 1.0, v, 1, b, x, b, 1, g, b);
                for (int i = 0; i < b; i++)
                    for (int j = 0; j < b; j++)
                    {
                        double s = 0;
                        for (int q = 0; q <= i; q++) s += t[q * b + i] * g[q * b + j];
                        y[i * b + j] = s;
                    }
                Dgemm.MultiplyAdd(m, b, b, -0.5, v, b, 1, y, b, 1, x, b);
                // A22 −= [V W]·[W V]ᵀ = V Wᵀ + W Vᵀ, lower triangle only (half the flops of a full update).
                for (int i = 0; i < m; i++)
                {
                    new ReadOnlySpan<double>(v + (long)i * b, b).CopyTo(new Span<double>(vw + 2L * i * b, b));
                    new ReadOnlySpan<double>(x + (long)i * b, b).CopyTo(new Span<double>(vw + 2L * i * b + b, b));
                    new ReadOnlySpan<double>(x + (long)i * b, b).CopyTo(new Span<double>(wv + 2L * i * b, b));
                    new ReadOnlySpan<double>(v + (long)i * b, b).CopyTo(new Span<double>(wv + 2L * i * b + b, b));
                }
                Dgemm.MultiplyAdd(m, m, 2 * b, -1.0, vw, 2 * b, 1, wv, 1, 2 * b, a22, n, lowerOnly: true);
            }
        }
    }

    /// <summary>
    /// Householder QR of the m x b row-major panel p (ld b), first <paramref name="reflectors"/> columns:
    /// on return column c below row c holds reflector c's tail (its head, 1, is implicit), p(c, c) is junk
    /// and β_c (the new diagonal) is in <paramref name="beta"/>; entries above the diagonal are R.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelQr(double* p, int m, int b, int reflectors, double* tau, double* beta)
    {
        double* s = stackalloc double[b];
        for (int c = 0; c < reflectors; c++)
        {
            double alpha = p[(long)c * b + c];
            double xnorm2 = 0;
            for (int i = c + 1; i < m; i++) xnorm2 += p[(long)i * b + c] * p[(long)i * b + c];
            if (xnorm2 == 0)
            {
                tau[c] = 0;
                beta[c] = alpha;
                continue;
            }
            double bt = -Math.CopySign(Math.Sqrt(alpha * alpha + xnorm2), alpha);
            double tc = (bt - alpha) / bt;
            double scale = 1.0 / (alpha - bt);
            for (int i = c + 1; i < m; i++) p[(long)i * b + c] *= scale;
            tau[c] = tc;
            beta[c] = bt;
            // Columns c+1..b−1 ← H_c · columns: s = vᵀ P, P −= τ v s.
            int w = b - c - 1;
            if (w == 0) continue;
            double* rc = p + (long)c * b + c + 1;
            for (int j = 0; j < w; j++) s[j] = rc[j];
            for (int i = c + 1; i < m; i++) Axpy(p[(long)i * b + c], p + (long)i * b + c + 1, s, w);
            for (int j = 0; j < w; j++) { s[j] *= tc; rc[j] -= s[j]; }
            for (int i = c + 1; i < m; i++) Axpy(-p[(long)i * b + c], s, p + (long)i * b + c + 1, w);
        }
    }

    /// <summary>T of Q = H_0 ⋯ H_{b−1} = I − V T Vᵀ (upper triangular, LAPACK's dlarft forward/columnwise).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BuildT(double* v, int m, int b, double* tau, double* gram, double* t)
    {
        new Span<double>(gram, b * b).Clear();
        Dgemm.MultiplyAdd(b, b, m, 1.0, v, 1, b, v, b, 1, gram, b);
        new Span<double>(t, b * b).Clear();
        for (int c = 0; c < b; c++)
        {
            t[c * b + c] = tau[c];
            if (tau[c] == 0) continue;
            // T(0:c, c) = −τ_c T(0:c, 0:c) Vᵀ(0:c) v_c
            for (int i = 0; i < c; i++)
            {
                double s = 0;
                for (int q = i; q < c; q++) s += t[i * b + q] * gram[q * b + c];
                t[i * b + c] = -tau[c] * s;
            }
        }
    }

    /// <summary>
    /// Stage 2 on the lower band of width b (dense row-major storage; entries outside band and bulges are
    /// zero on entry). For each sweep j: reflector on column j, rows j+1..j+b; then per step the previous
    /// reflector from the right on the block below it, a new reflector annihilating that block's first
    /// column from the left, and the two-sided update of the next diagonal block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ChaseBulges(double* a, int n, int b)
    {
        double* v = stackalloc double[b];
        double* v2 = stackalloc double[b];
        double* work = stackalloc double[b];
        for (int j = 0; j < n - 1; j++)
        {
            int st = j + 1, ed = Math.Min(j + b, n - 1);
            double tau = MakeReflector(a, n, st, ed, j, v);
            if (tau != 0) SymmetricUpdate(a, n, st, ed - st + 1, v, tau, work);
            while (ed + 1 < n)
            {
                int r0 = ed + 1, r1 = Math.Min(ed + b, n - 1);
                int len = ed - st + 1, rows = r1 - r0 + 1;
                // Block rows r0..r1, columns st..ed ← block · H (fills it: the bulge).
                if (tau != 0)
                    for (int i = r0; i <= r1; i++)
                    {
                        double* row = a + (long)i * n + st;
                        double s = tau * DoubleVectors.Dot(row, v, len);
                        Axpy(-s, v, row, len);
                    }
                // Annihilate the bulge's first column (column st, rows r0+1..r1) from the left.
                double tau2 = MakeReflector(a, n, r0, r1, st, v2);
                if (tau2 != 0)
                {
                    int w = len - 1;
                    if (w > 0)
                    {
                        new Span<double>(work, w).Clear();
                        for (int i = 0; i < rows; i++) Axpy(v2[i], a + (long)(r0 + i) * n + st + 1, work, w);
                        for (int q = 0; q < w; q++) work[q] *= tau2;
                        for (int i = 0; i < rows; i++) Axpy(-v2[i], work, a + (long)(r0 + i) * n + st + 1, w);
                    }
                    SymmetricUpdate(a, n, r0, rows, v2, tau2, work);
                }
                st = r0;
                ed = r1;
                tau = tau2;
                new Span<double>(v2, rows).CopyTo(new Span<double>(v, rows));
            }
        }
    }

    /// <summary>
    /// Reflector H = I − τ v vᵀ (v₀ = 1) with H·x = β e₀ for x = A(r0..r1, col); writes β and the zeros into A.
    /// τ = 0 when x is already a multiple of e₀.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double MakeReflector(double* a, int n, int r0, int r1, int col, double* v)
    {
        double alpha = a[(long)r0 * n + col];
        double xnorm2 = 0;
        for (int i = r0 + 1; i <= r1; i++)
        {
            double xi = a[(long)i * n + col];
            xnorm2 += xi * xi;
        }
        v[0] = 1;
        if (xnorm2 == 0) return 0;
        double bt = -Math.CopySign(Math.Sqrt(alpha * alpha + xnorm2), alpha);
        double scale = 1.0 / (alpha - bt);
        for (int i = r0 + 1; i <= r1; i++)
        {
            v[i - r0] = a[(long)i * n + col] * scale;
            a[(long)i * n + col] = 0;
        }
        a[(long)r0 * n + col] = bt;
        return (bt - alpha) / bt;
    }

    /// <summary>S ← H S H on the symmetric block S = A(s0.., s0..) of order len, lower triangle only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SymmetricUpdate(double* a, int n, int s0, int len, double* v, double tau, double* p)
    {
        // p = τ S v from the lower triangle: row i contributes S(i, 0..i−1)·v to p_i and S(i, j)·v_i to p_j.
        new Span<double>(p, len).Clear();
        for (int i = 0; i < len; i++)
        {
            double* row = a + (long)(s0 + i) * n + s0;
            double vi = v[i];
            p[i] += DoubleVectors.Dot(row, v, i) + row[i] * vi;
            Axpy(vi, row, p, i);
        }
        double pv = 0;
        for (int i = 0; i < len; i++) { p[i] *= tau; pv += p[i] * v[i]; }
        double half = 0.5 * tau * pv;
        for (int i = 0; i < len; i++) p[i] -= half * v[i];
        // S −= v wᵀ + w vᵀ (w in p).
        for (int i = 0; i < len; i++)
        {
            double* row = a + (long)(s0 + i) * n + s0;
            Axpy(-v[i], p, row, i + 1);
            Axpy(-p[i], v, row, i + 1);
        }
    }

    /// <summary>y += alpha·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(double alpha, double* x, double* y, int count)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var al = Vector256.Create(alpha);
            for (; i + 4 <= count; i += 4)
                Vector256.FusedMultiplyAdd(al, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        }
        for (; i < count; i++) y[i] += alpha * x[i];
    }
}
