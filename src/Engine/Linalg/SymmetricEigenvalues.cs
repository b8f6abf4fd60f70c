using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenMetrics.Linalg;

/// <summary>
/// Eigenvalues (no vectors) of a real symmetric matrix: Householder reduction to tridiagonal form, then
/// implicit QL with Wilkinson shifts on the tridiagonal. Both steps are backward stable, so each computed
/// eigenvalue is exact for a matrix within O(D·eps·‖A‖) of the input.
/// </summary>
internal static unsafe class SymmetricEigenvalues
{
    /// <summary>Eigenvalues of the row-major n x n symmetric <paramref name="a"/> (full storage, overwritten).</summary>
    public static double[] Compute(double[] a, int n) => Compute(a, n, n >= TwoStageMinimumOrder);

    /// <summary>
    /// Order from which the two-stage reduction (<see cref="TwoStageTridiagonal"/>, DGEMM-bound) replaces the
    /// one-stage one (memory-bound matrix-vector products): below it the band stage's panels are too few
    /// and narrow for its GEMMs to pay off.
    /// </summary>
    internal const int TwoStageMinimumOrder = 256;

    /// <summary>As <see cref="Compute(double[], int)"/>, with the reduction chosen by the caller (tests compare both).</summary>
    internal static double[] Compute(double[] a, int n, bool twoStage)
    {
        var d = new double[n];
        var e = new double[n];
        if (twoStage) TwoStageTridiagonal.Tridiagonalize(a, n, d, e);
        else Tridiagonalize(a, n, d, e);
        TridiagonalRootFreeQl(d, e, n);
        return d;
    }

    /// <summary>
    /// Householder tridiagonalisation: d is the diagonal, e[i] couples i and i+1 (e[n−1] = 0).
    /// Only the lower triangle is read and written. The reduction is memory-bound (each step touches the
    /// whole trailing triangle for O(1) flops per element), so step k's rank-2 update A −= v wᵀ + w vᵀ is
    /// deferred and fused with step k+1's product A·v' in one pass over the rows: each element is loaded
    /// and stored once per step instead of three times. Rows are split between cores by triangle area; the
    /// column half of the symmetric product goes to per-thread accumulators.
    /// </summary>
    internal static void Tridiagonalize(double[] a, int n, double[] d, double[] e, int blockedPanel = PanelWidth)
    {
        int start = blockedPanel > 0 ? TridiagonalizeBlocked(a, n, d, e, blockedPanel) : 0;
        TridiagonalizeFused(a, n, start, d, e);
    }

    internal const int PanelWidth = 32;

    /// <summary>
    /// DLATRD-style blocked reduction of the leading columns: inside a panel of nb columns the trailing
    /// matrix is left as it was at the panel start and only read (one symmetric product per column, lower
    /// triangle, no stores); the panel's reflectors V and their products W correct the columns and the
    /// products on the fly, and the trailing matrix gets one rank-2nb update (two lower-triangle GEMMs)
    /// per panel. Halves the memory traffic of the unblocked reduction and moves half the flops into GEMM.
    /// Returns the first column left for the unblocked finish.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int TridiagonalizeBlocked(double[] a, int n, double[] d, double[] e, int nb)
    {
        int threads = Math.Max(1, Math.Min(Environment.ProcessorCount, 8));
        int k0 = 0;
        var panelV = new double[(long)n * nb];
        var panelW = new double[(long)n * nb];
        var x = new double[n];
        var v = new double[n];
        var y = new double[threads * (long)n];
        var t1 = new double[nb];
        var t2 = new double[nb];
        fixed (double* pa = a, ppv = panelV, ppw = panelW, px = x, pv = v, py = y, pt1 = t1, pt2 = t2)
        {
            double* PV = ppv, PW = ppw, X = px, Vv = pv, Y = py, T1 = pt1, T2 = pt2;
            for (; n - k0 > 4 * nb; k0 += nb)
            {
                int m = n - k0;
                double* b = pa + (long)k0 * n + k0;
                new Span<double>(PV, m * nb).Clear();
                new Span<double>(PW, m * nb).Clear();
                for (int c = 0; c < nb; c++)
                {
                    int k = k0 + c;
                    // Column c of the panel with the panel's earlier reflections applied.
                    for (int i = c; i < m; i++)
                    {
                        double xi = b[(long)i * n + c];
                        double* vi = PV + (long)i * nb, wi = PW + (long)i * nb, vc = PV + (long)c * nb, wc = PW + (long)c * nb;
                        for (int q = 0; q < c; q++) xi -= vi[q] * wc[q] + wi[q] * vc[q];
                        X[i] = xi;
                    }
                    d[k] = X[c];
                    double alpha = X[c + 1];
                    double xnorm2 = 0;
                    for (int i = c + 2; i < m; i++) xnorm2 += X[i] * X[i];
                    if (xnorm2 == 0)
                    {
                        e[k] = alpha; // H = I: the V and W columns stay zero
                        continue;
                    }
                    double beta = -Math.CopySign(Math.Sqrt(alpha * alpha + xnorm2), alpha);
                    double tau = (beta - alpha) / beta;
                    double scale = 1.0 / (alpha - beta);
                    e[k] = beta;
                    int lo = c + 1;
                    Vv[lo] = 1;
                    for (int i = lo + 1; i < m; i++) Vv[i] = X[i] * scale;
                    for (int i = lo; i < m; i++) PV[(long)i * nb + c] = Vv[i];

                    int rows = m - lo;
                    int parts = (long)rows * rows < 1 << 14 ? 1 : threads;
                    void Pass(int part)
                    {
                        int r0 = lo + (int)(rows * Math.Sqrt((double)part / parts));
                        int r1 = part == parts - 1 ? m : lo + (int)(rows * Math.Sqrt((double)(part + 1) / parts));
                        double* yPart = Y + (long)part * n;
                        new Span<double>(yPart + lo, rows).Clear();
                        int i = r0;
                        for (; i + 7 < r1; i += 8) SymmetricProductRows8(b, n, lo, i, Vv, yPart);
                        for (; i + 3 < r1; i += 4) SymmetricProductRows4(b, n, lo, i, Vv, yPart);
                        for (; i < r1; i++)
                            FusedRow(b + (long)i * n, lo, i, false, null, null, true, Vv, yPart);
                    }
                    if (parts == 1) Pass(0);
                    else Parallel.For(0, parts, Pass);

                    // y −= V (Wᵀ v) + W (Vᵀ v) over the panel's earlier columns.
                    for (int q = 0; q < c; q++) { T1[q] = 0; T2[q] = 0; }
                    for (int i = lo; i < m; i++)
                    {
                        double vi = Vv[i];
                        double* vr = PV + (long)i * nb, wr = PW + (long)i * nb;
                        for (int q = 0; q < c; q++) { T1[q] += wr[q] * vi; T2[q] += vr[q] * vi; }
                    }
                    double wv = 0;
                    for (int i = lo; i < m; i++)
                    {
                        double sum = 0;
                        for (int t = 0; t < parts; t++) sum += Y[(long)t * n + i];
                        double* vr = PV + (long)i * nb, wr = PW + (long)i * nb;
                        for (int q = 0; q < c; q++) sum -= vr[q] * T1[q] + wr[q] * T2[q];
                        X[i] = tau * sum;
                        wv += X[i] * Vv[i];
                    }
                    double half = 0.5 * tau * wv;
                    for (int i = lo; i < m; i++) PW[(long)i * nb + c] = X[i] - half * Vv[i];
                }
                // Trailing A22 −= V Wᵀ + W Vᵀ (rows and columns past the panel, lower triangle).
                int rest = m - nb;
                double* v2 = PV + (long)nb * nb, w2 = PW + (long)nb * nb, a22 = b + (long)nb * n + nb;
                Dgemm.MultiplyAdd(rest, rest, nb, -1.0, v2, nb, 1, w2, 1, nb, a22, n, lowerOnly: true);
                Dgemm.MultiplyAdd(rest, rest, nb, -1.0, w2, nb, 1, v2, 1, nb, a22, n, lowerOnly: true);
            }
        }
        return k0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TridiagonalizeFused(double[] a, int n, int start, double[] d, double[] e)
    {
        int threads = Math.Max(1, Math.Min(Environment.ProcessorCount, 8));
        var v = new double[n];
        var vPending = new double[n];
        var wPending = new double[n];
        var y = new double[threads * (long)n];
        fixed (double* pa = a, pv = v, pvp = vPending, pwp = wPending, py = y)
        {
            double* A = pa, V = pv, VP = pvp, WP = pwp, Y = py;
            bool pending = false;
            for (int k = start; k < n; k++)
            {
                if (pending)
                    for (int i = k; i < n; i++) A[(long)i * n + k] -= VP[i] * WP[k] + WP[i] * VP[k];
                d[k] = A[(long)k * n + k];
                if (k == n - 1) break;
                int m = n - k - 1;
                double alpha = A[(long)(k + 1) * n + k];
                double xnorm2 = 0;
                for (int i = k + 2; i < n; i++)
                {
                    double xi = A[(long)i * n + k];
                    xnorm2 += xi * xi;
                }
                double tau = 0;
                if (xnorm2 == 0)
                    e[k] = alpha;
                else
                {
                    double beta = -Math.CopySign(Math.Sqrt(alpha * alpha + xnorm2), alpha);
                    tau = (beta - alpha) / beta;
                    double scale = 1.0 / (alpha - beta);
                    V[k + 1] = 1;
                    for (int i = k + 2; i < n; i++) V[i] = A[(long)i * n + k] * scale;
                    e[k] = beta;
                }

                int lo = k + 1;
                bool product = tau != 0;
                bool applyPending = pending;
                int parts = (long)m * m < 1 << 14 ? 1 : threads;
                void Pass(int part)
                {
                    // Balanced by area of the triangle rows lo..n−1 (row i has i − lo + 1 elements).
                    int r0 = lo + (int)(m * Math.Sqrt((double)part / parts));
                    int r1 = lo + (int)(m * Math.Sqrt((double)(part + 1) / parts));
                    if (part == parts - 1) r1 = n;
                    double* yPart = Y + (long)part * n;
                    new Span<double>(yPart + lo, m).Clear();
                    for (int i = r0; i < r1; i++)
                        FusedRow(A + (long)i * n, lo, i, applyPending, VP, WP, product, V, yPart);
                }
                if (parts == 1) Pass(0);
                else Parallel.For(0, parts, Pass);

                if (!product)
                {
                    // No reflection: A22 is already in final form once the pending update was applied.
                    pending = false;
                    continue;
                }
                // p = tau·(A22 v); w = p − (tau/2)(pᵀv) v.
                double pv2 = 0;
                for (int i = lo; i < n; i++)
                {
                    double sum = 0;
                    for (int t = 0; t < parts; t++) sum += Y[(long)t * n + i];
                    WP[i] = tau * sum;
                    pv2 += WP[i] * V[i];
                }
                double half = 0.5 * tau * pv2;
                for (int i = lo; i < n; i++)
                {
                    WP[i] -= half * V[i];
                    VP[i] = V[i];
                }
                pending = true;
            }
        }
        e[n - 1] = 0;
    }

    /// <summary>Rows i0..i0+7: as <see cref="SymmetricProductRows4"/>, sharing y and v over 8 rows (19 vector registers).</summary>
    private static void SymmetricProductRows8(double* b, long ld, int lo, int i0, double* v, double* y)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            SymmetricProductRows4(b, ld, lo, i0, v, y);
            // Rows i0+4..i0+7 see columns up to i0+3 as ordinary columns: handled by the 4-row routine
            // with lo..i0+4 and its own corner.
            SymmetricProductRows4(b, ld, lo, i0 + 4, v, y);
            return;
        }
        double* r0 = b + i0 * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld, r4 = r3 + ld, r5 = r4 + ld, r6 = r5 + ld, r7 = r6 + ld;
        var v0 = Vector256.Create(v[i0 + 0]);
        var v1 = Vector256.Create(v[i0 + 1]);
        var v2 = Vector256.Create(v[i0 + 2]);
        var v3 = Vector256.Create(v[i0 + 3]);
        var v4 = Vector256.Create(v[i0 + 4]);
        var v5 = Vector256.Create(v[i0 + 5]);
        var v6 = Vector256.Create(v[i0 + 6]);
        var v7 = Vector256.Create(v[i0 + 7]);
        Vector256<double> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        int j = lo;
        for (; j <= i0 - 4; j += 4)
        {
            var vj = Vector256.Load(v + j);
            var yj = Vector256.Load(y + j);
            var a0 = Vector256.Load(r0 + j); acc0 = Vector256.FusedMultiplyAdd(a0, vj, acc0); yj = Vector256.FusedMultiplyAdd(a0, v0, yj);
            var a1 = Vector256.Load(r1 + j); acc1 = Vector256.FusedMultiplyAdd(a1, vj, acc1); yj = Vector256.FusedMultiplyAdd(a1, v1, yj);
            var a2 = Vector256.Load(r2 + j); acc2 = Vector256.FusedMultiplyAdd(a2, vj, acc2); yj = Vector256.FusedMultiplyAdd(a2, v2, yj);
            var a3 = Vector256.Load(r3 + j); acc3 = Vector256.FusedMultiplyAdd(a3, vj, acc3); yj = Vector256.FusedMultiplyAdd(a3, v3, yj);
            var a4 = Vector256.Load(r4 + j); acc4 = Vector256.FusedMultiplyAdd(a4, vj, acc4); yj = Vector256.FusedMultiplyAdd(a4, v4, yj);
            var a5 = Vector256.Load(r5 + j); acc5 = Vector256.FusedMultiplyAdd(a5, vj, acc5); yj = Vector256.FusedMultiplyAdd(a5, v5, yj);
            var a6 = Vector256.Load(r6 + j); acc6 = Vector256.FusedMultiplyAdd(a6, vj, acc6); yj = Vector256.FusedMultiplyAdd(a6, v6, yj);
            var a7 = Vector256.Load(r7 + j); acc7 = Vector256.FusedMultiplyAdd(a7, vj, acc7); yj = Vector256.FusedMultiplyAdd(a7, v7, yj);
            yj.Store(y + j);
        }
        double* sums = stackalloc double[8];
        sums[0] = Vector256.Sum(acc0);
        sums[1] = Vector256.Sum(acc1);
        sums[2] = Vector256.Sum(acc2);
        sums[3] = Vector256.Sum(acc3);
        sums[4] = Vector256.Sum(acc4);
        sums[5] = Vector256.Sum(acc5);
        sums[6] = Vector256.Sum(acc6);
        sums[7] = Vector256.Sum(acc7);
        for (; j < i0; j++)
        {
            double vj = v[j], yAdd = 0;
            for (int r = 0; r < 8; r++)
            {
                double a = b[(i0 + r) * ld + j];
                sums[r] += a * vj;
                yAdd += a * v[i0 + r];
            }
            y[j] += yAdd;
        }
        for (int r = 0; r < 8; r++)
        {
            int row = i0 + r;
            double* a = b + row * ld;
            double vr = v[row];
            double s = sums[r];
            for (int c = i0; c < row; c++)
            {
                s += a[c] * v[c];
                y[c] += a[c] * vr;
            }
            y[row] += s + a[row] * vr;
        }
    }

    /// <summary>
    /// Rows i0..i0+3 of the lower-triangle symmetric product y += B·v (B read only, columns lo..row).
    /// Four rows share each load and store of y and v, so the pass is limited by streaming B alone.
    /// </summary>
    private static void SymmetricProductRows4(double* b, long ld, int lo, int i0, double* v, double* y)
    {
        double* r0 = b + i0 * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = lo;
        if (Vector256.IsHardwareAccelerated)
        {
            var v0 = Vector256.Create(v[i0]);
            var v1 = Vector256.Create(v[i0 + 1]);
            var v2 = Vector256.Create(v[i0 + 2]);
            var v3 = Vector256.Create(v[i0 + 3]);
            Vector256<double> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            for (; j <= i0 - 4; j += 4)
            {
                var vj = Vector256.Load(v + j);
                var a0 = Vector256.Load(r0 + j);
                var a1 = Vector256.Load(r1 + j);
                var a2 = Vector256.Load(r2 + j);
                var a3 = Vector256.Load(r3 + j);
                acc0 = Vector256.FusedMultiplyAdd(a0, vj, acc0);
                acc1 = Vector256.FusedMultiplyAdd(a1, vj, acc1);
                acc2 = Vector256.FusedMultiplyAdd(a2, vj, acc2);
                acc3 = Vector256.FusedMultiplyAdd(a3, vj, acc3);
                var yj = Vector256.Load(y + j);
                yj = Vector256.FusedMultiplyAdd(a0, v0, yj);
                yj = Vector256.FusedMultiplyAdd(a1, v1, yj);
                yj = Vector256.FusedMultiplyAdd(a2, v2, yj);
                yj = Vector256.FusedMultiplyAdd(a3, v3, yj);
                yj.Store(y + j);
            }
            s0 = Vector256.Sum(acc0);
            s1 = Vector256.Sum(acc1);
            s2 = Vector256.Sum(acc2);
            s3 = Vector256.Sum(acc3);
        }
        for (; j < i0; j++)
        {
            double vj = v[j];
            double a0 = r0[j], a1 = r1[j], a2 = r2[j], a3 = r3[j];
            s0 += a0 * vj; s1 += a1 * vj; s2 += a2 * vj; s3 += a3 * vj;
            y[j] += a0 * v[i0] + a1 * v[i0 + 1] + a2 * v[i0 + 2] + a3 * v[i0 + 3];
        }
        // The 4 x 4 corner: row r covers columns i0..i0+r, its diagonal counted once.
        double* rows = stackalloc double[4];
        rows[0] = s0; rows[1] = s1; rows[2] = s2; rows[3] = s3;
        for (int r = 0; r < 4; r++)
        {
            int row = i0 + r;
            double* a = b + row * ld;
            double vr = v[row];
            double s = rows[r];
            for (int c = i0; c < row; c++)
            {
                s += a[c] * v[c];
                y[c] += a[c] * vr;
            }
            y[row] += s + a[row] * vr;
        }
    }

    /// <summary>
    /// Row i of the trailing lower triangle, columns lo..i: apply the deferred update
    /// a −= vp_i·wp + wp_i·vp, then accumulate the symmetric product with v: y_i += a·v (row part) and
    /// y_j += a_j·v_i for j &lt; i (column part).
    /// </summary>
    private static void FusedRow(double* row, int lo, int i, bool applyPending, double* vp, double* wp,
        bool product, double* v, double* y)
    {
        double vpi = applyPending ? vp[i] : 0, wpi = applyPending ? wp[i] : 0, vi = product ? v[i] : 0;
        int j = lo;
        double rowDot = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var nvpi = Vector256.Create(-vpi);
            var nwpi = Vector256.Create(-wpi);
            var vvi = Vector256.Create(vi);
            var acc = Vector256<double>.Zero;
            for (; j <= i - 4; j += 4)
            {
                var x = Vector256.Load(row + j);
                if (applyPending)
                {
                    x = Vector256.FusedMultiplyAdd(nvpi, Vector256.Load(wp + j), x);
                    x = Vector256.FusedMultiplyAdd(nwpi, Vector256.Load(vp + j), x);
                    x.Store(row + j);
                }
                if (product)
                {
                    var vj = Vector256.Load(v + j);
                    acc = Vector256.FusedMultiplyAdd(x, vj, acc);
                    Vector256.FusedMultiplyAdd(x, vvi, Vector256.Load(y + j)).Store(y + j);
                }
            }
            rowDot = Vector256.Sum(acc);
        }
        for (; j < i; j++)
        {
            double x = row[j];
            if (applyPending)
            {
                x -= vpi * wp[j] + wpi * vp[j];
                row[j] = x;
            }
            if (product)
            {
                rowDot += x * v[j];
                y[j] += x * vi;
            }
        }
        // Diagonal element: counted once.
        double diag = row[i];
        if (applyPending)
        {
            diag -= vpi * wp[i] + wpi * vp[i];
            row[i] = diag;
        }
        if (product) y[i] += rowDot + diag * vi;
    }

    /// <summary>
    /// Eigenvalues of the symmetric tridiagonal (d, e) by implicit QL with Wilkinson shifts (eigenvalues
    /// only: O(n²)). On return d holds the eigenvalues, unsorted.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void TridiagonalQl(double[] d, double[] e, int n)
    {
        if (n > 0) e[n - 1] = 0;
        // Besides the relative test |e_m| ≤ eps·(|d_m| + |d_m+1|), an off-diagonal below eps·‖T‖ is
        // neglected: that perturbs every eigenvalue by at most eps·‖T‖, the accuracy the Householder
        // reduction already has, and it lets a cluster of (numerically) zero eigenvalues, where the
        // relative test can never be met, split off instead of exhausting the iterations.
        double norm = 0;
        for (int i = 0; i < n; i++) norm = Math.Max(norm, Math.Abs(d[i]) + Math.Abs(e[i]) + (i > 0 ? Math.Abs(e[i - 1]) : 0));
        double negligible = 2.220446049250313e-16 * norm;
        for (int l = 0; l < n; l++)
        {
            int iterations = 0;
            int m;
            do
            {
                for (m = l; m < n - 1; m++)
                {
                    double dd = Math.Abs(d[m]) + Math.Abs(d[m + 1]);
                    if (Math.Abs(e[m]) <= 2.220446049250313e-16 * dd || Math.Abs(e[m]) <= negligible) break;
                }
                if (m == l) break;
                if (++iterations > 60)
                    throw new InvalidOperationException($"tridiagonal QL did not converge for eigenvalue {l} of {n}");
                double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                double r = Hypot(g, 1.0);
                g = d[m] - d[l] + e[l] / (g + Math.CopySign(r, g));
                double s = 1, c = 1, p = 0;
                int i;
                bool underflow = false;
                for (i = m - 1; i >= l; i--)
                {
                    double f = s * e[i];
                    double b = c * e[i];
                    r = Hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0)
                    {
                        d[i + 1] -= p;
                        e[m] = 0;
                        underflow = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2.0 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                }
                if (underflow) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            } while (true);
        }
    }

    /// <summary>
    /// Eigenvalues of the symmetric tridiagonal (d, e) by the square-root-free implicit QL of Pal, Walker
    /// and Kahan (the method of LAPACK's dsterf): it iterates on the squared off-diagonals, so an inner step
    /// costs two divisions and no square root, about twice as fast as <see cref="TridiagonalQl"/> (kept as
    /// its reference twin). Same shifts (Wilkinson's, from the leading 2 x 2) and the same deflation tests,
    /// in squared form. On return d holds the eigenvalues, unsorted; e is destroyed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void TridiagonalRootFreeQl(double[] d, double[] e, int n)
    {
        const double eps = 2.220446049250313e-16;
        if (n <= 1) return;
        double norm = 0;
        for (int i = 0; i < n; i++)
            norm = Math.Max(norm, Math.Abs(d[i]) + (i < n - 1 ? Math.Abs(e[i]) : 0) + (i > 0 ? Math.Abs(e[i - 1]) : 0));
        if (norm == 0) return;
        // Scaled to norm 1 so that squares neither overflow nor underflow; scaled back at the end.
        double inv = 1.0 / norm;
        var e2 = new double[n];
        for (int i = 0; i < n; i++)
        {
            d[i] *= inv;
            double ei = i < n - 1 ? e[i] * inv : 0;
            e2[i] = ei * ei;
        }
        const double eps2 = eps * eps;
        for (int l = 0; l < n; l++)
        {
            int iterations = 0;
            while (true)
            {
                int m;
                for (m = l; m < n - 1; m++)
                    if (e2[m] <= eps2 * Math.Abs(d[m] * d[m + 1]) || e2[m] <= eps2) break;
                if (m == l) break;
                if (++iterations > 60)
                    throw new InvalidOperationException($"tridiagonal QL did not converge for eigenvalue {l} of {n}");
                double rte = Math.Sqrt(e2[l]);
                double sigma = (d[l + 1] - d[l]) / (2.0 * rte);
                double r = Hypot(sigma, 1.0);
                sigma = d[l] - rte / (sigma + Math.CopySign(r, sigma));
                double c = 1, s = 0, gamma = d[m] - sigma, p = gamma * gamma;
                for (int i = m - 1; i >= l; i--)
                {
                    double bb = e2[i];
                    r = p + bb;
                    if (i != m - 1) e2[i + 1] = s * r;
                    double oldc = c;
                    c = p / r;
                    s = bb / r;
                    double oldGamma = gamma, alpha = d[i];
                    gamma = c * (alpha - sigma) - s * oldGamma;
                    d[i + 1] = oldGamma + (alpha - gamma);
                    p = c != 0 ? gamma * gamma / c : oldc * bb;
                }
                e2[l] = s * p;
                d[l] = sigma + gamma;
            }
        }
        for (int i = 0; i < n; i++) d[i] *= norm;
    }

    private static double Hypot(double x, double y)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y);
        if (ax < ay) (ax, ay) = (ay, ax);
        if (ax == 0) return 0;
        double t = ay / ax;
        return ax * Math.Sqrt(1 + t * t);
    }
}
