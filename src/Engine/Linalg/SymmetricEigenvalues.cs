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
    public static double[] Compute(double[] a, int n)
    {
        var d = new double[n];
        var e = new double[n];
        Tridiagonalize(a, n, d, e);
        TridiagonalQl(d, e, n);
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
    internal static void Tridiagonalize(double[] a, int n, double[] d, double[] e)
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
            for (int k = 0; k < n; k++)
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
    internal static void TridiagonalQl(double[] d, double[] e, int n)
    {
        if (n > 0) e[n - 1] = 0;
        for (int l = 0; l < n; l++)
        {
            int iterations = 0;
            int m;
            do
            {
                for (m = l; m < n - 1; m++)
                {
                    double dd = Math.Abs(d[m]) + Math.Abs(d[m + 1]);
                    if (Math.Abs(e[m]) <= 2.220446049250313e-16 * dd) break;
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

    private static double Hypot(double x, double y)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y);
        if (ax < ay) (ax, ay) = (ay, ax);
        if (ax == 0) return 0;
        double t = ay / ax;
        return ax * Math.Sqrt(1 + t * t);
    }
}
