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
    /// The full symmetric trailing matrix is kept, so the product with the reflector is a row-contiguous
    /// matrix-vector product and both it and the rank-2 update split over rows across cores.
    /// </summary>
    internal static void Tridiagonalize(double[] a, int n, double[] d, double[] e)
    {
        var v = new double[n];
        var w = new double[n];
        fixed (double* pa = a, pv = v, pw = w)
        {
            double* A = pa, V = pv, W = pw;
            for (int k = 0; k < n - 1; k++)
            {
                d[k] = A[(long)k * n + k];
                int m = n - k - 1;
                double* x = A + (long)k * n + k + 1; // row k right of the diagonal = column k below it
                if (m == 1)
                {
                    e[k] = x[0];
                    continue;
                }
                double alpha = x[0];
                double xnorm2 = 0;
                for (int i = 1; i < m; i++) xnorm2 += x[i] * x[i];
                if (xnorm2 == 0)
                {
                    e[k] = alpha;
                    continue;
                }
                double beta = -Math.CopySign(Math.Sqrt(alpha * alpha + xnorm2), alpha);
                double tau = (beta - alpha) / beta;
                double scale = 1.0 / (alpha - beta);
                V[0] = 1;
                for (int i = 1; i < m; i++) V[i] = x[i] * scale;
                e[k] = beta;

                // p = tau·A22·v; w = p − (tau/2)(pᵀv)v; A22 −= v wᵀ + w vᵀ.
                double* a22 = A + (long)(k + 1) * n + k + 1;
                RowParallel(m, (lo, hi) =>
                {
                    for (int i = lo; i < hi; i++) W[i] = tau * Dot(a22 + (long)i * n, V, m);
                });
                double pv2 = 0;
                for (int i = 0; i < m; i++) pv2 += W[i] * V[i];
                double half = 0.5 * tau * pv2;
                for (int i = 0; i < m; i++) W[i] -= half * V[i];
                RowParallel(m, (lo, hi) =>
                {
                    for (int i = lo; i < hi; i++) Rank2Row(a22 + (long)i * n, V, W, V[i], W[i], m);
                });
            }
            d[n - 1] = A[(long)(n - 1) * n + n - 1];
            e[n - 1] = 0;
        }
    }

    private delegate void RangeAction(int lo, int hi);

    private static void RowParallel(int m, RangeAction body)
    {
        if ((long)m * m < 1 << 15 || Environment.ProcessorCount == 1)
        {
            body(0, m);
            return;
        }
        int parts = Environment.ProcessorCount;
        Parallel.For(0, parts, part => body((int)((long)m * part / parts), (int)((long)m * (part + 1) / parts)));
    }

    private static double Dot(double* x, double* y, int len)
    {
        int i = 0;
        var acc0 = Vector256<double>.Zero;
        var acc1 = Vector256<double>.Zero;
        for (; i <= len - 8; i += 8)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 4), Vector256.Load(y + i + 4), acc1);
        }
        double s = Vector256.Sum(acc0 + acc1);
        for (; i < len; i++) s += x[i] * y[i];
        return s;
    }

    /// <summary>row −= vi·w + wi·v.</summary>
    private static void Rank2Row(double* row, double* v, double* w, double vi, double wi, int len)
    {
        int j = 0;
        var nvi = Vector256.Create(-vi);
        var nwi = Vector256.Create(-wi);
        for (; j <= len - 4; j += 4)
        {
            var r = Vector256.Load(row + j);
            r = Vector256.FusedMultiplyAdd(nvi, Vector256.Load(w + j), r);
            r = Vector256.FusedMultiplyAdd(nwi, Vector256.Load(v + j), r);
            r.Store(row + j);
        }
        for (; j < len; j++) row[j] -= vi * w[j] + wi * v[j];
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
