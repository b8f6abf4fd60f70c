namespace GenMetrics.Linalg;

/// <summary>
/// Cholesky factorisation with complete (diagonal) pivoting of a symmetric positive semi-definite matrix,
/// with LAPACK dpstrf semantics: A = P L Lᵀ Pᵀ where L is D x r lower trapezoidal and r is the numerical
/// rank. The factorisation stops when the largest remaining diagonal of the Schur complement is at most
/// tol (default D·eps·max diag(A)), so a covariance from N &lt; D samples (rank ≤ N − 1) or with exactly
/// constant features factors without breaking down, where a plain Cholesky would take the square root of
/// a rounding-error negative.
/// Blocked: each panel of <see cref="PanelWidth"/> columns is factored left-looking against the panel only
/// (pivot choice uses running diagonal corrections), then the trailing matrix gets one SYRK update.
/// </summary>
internal static unsafe class PivotedCholesky
{
    internal const int PanelWidth = 64;

    /// <summary>Unit round-off of float64 times 2 (numpy's finfo(float64).eps).</summary>
    private const double Epsilon = 2.220446049250313e-16;

    /// <summary>
    /// Factors <paramref name="a"/> (row-major D x D, full symmetric storage, overwritten).
    /// On return a[i·D + j] for j &lt; min(i+1, rank) holds L(i, j); <paramref name="permutation"/>[i] is
    /// the original index of row i of L.
    /// </summary>
    public static int Factor(double[] a, int dim, int[] permutation, double? tolerance = null)
    {
        int n = dim;
        for (int i = 0; i < n; i++) permutation[i] = i;
        double maxDiag = 0;
        for (int i = 0; i < n; i++) maxDiag = Math.Max(maxDiag, a[(long)i * n + i]);
        if (!(maxDiag > 0)) return 0;
        double tol = tolerance ?? n * Epsilon * maxDiag;

        var correction = new double[n];
        int rank = 0;
        fixed (double* fixedA = a)
        {
            double* pa = fixedA;
            for (int k0 = 0; k0 < n; k0 += PanelWidth)
            {
                int k1 = Math.Min(k0 + PanelWidth, n);
                Array.Clear(correction, k0, n - k0);
                for (int j = k0; j < k1; j++)
                {
                    int pivot = j;
                    double best = double.NegativeInfinity;
                    for (int i = j; i < n; i++)
                    {
                        double v = pa[(long)i * n + i] - correction[i];
                        if (v > best) { best = v; pivot = i; }
                    }
                    if (!(best > tol))
                    {
                        rank = j;
                        return rank;
                    }
                    if (pivot != j)
                    {
                        SwapSymmetric(pa, n, j, pivot);
                        (correction[j], correction[pivot]) = (correction[pivot], correction[j]);
                        (permutation[j], permutation[pivot]) = (permutation[pivot], permutation[j]);
                    }
                    double ljj = Math.Sqrt(best);
                    pa[(long)j * n + j] = ljj;
                    double inv = 1.0 / ljj;
                    double* rowJ = pa + (long)j * n;
                    int len = j - k0;
                    // L(i, j) = (A(i, j) − Σ_{p in panel, p<j} L(i, p) L(j, p)) / L(j, j): rows are
                    // contiguous in p, and the trailing matrix already holds the updates of earlier panels.
                    void Column(int i)
                    {
                        double* rowI = pa + (long)i * n;
                        double s = rowI[j];
                        for (int p = k0; p < k0 + len; p++) s -= rowI[p] * rowJ[p];
                        s *= inv;
                        rowI[j] = s;
                        correction[i] += s * s;
                    }
                    int count = n - j - 1;
                    if ((long)count * len > 1 << 16)
                        Parallel.For(0, 2, part =>
                        {
                            int lo = j + 1 + (int)((long)count * part / 2), hi = j + 1 + (int)((long)count * (part + 1) / 2);
                            for (int i = lo; i < hi; i++) Column(i);
                        });
                    else
                        for (int i = j + 1; i < n; i++) Column(i);
                    rank = j + 1;
                }
                if (k1 < n)
                {
                    // Trailing A22 −= L21 L21ᵀ (lower triangle), then mirror so that later symmetric swaps
                    // and row-contiguous reads see a full matrix.
                    int m = n - k1;
                    double* l21 = pa + (long)k1 * n + k0;
                    Dgemm.MultiplyAdd(m, m, k1 - k0, -1.0, l21, n, 1, l21, 1, n, pa + (long)k1 * n + k1, n, lowerOnly: true);
                    Mirror(pa, n, k1);
                }
            }
        }
        return rank;
    }

    /// <summary>Copies the lower triangle of the trailing block a[from.., from..] onto its upper triangle.</summary>
    private static void Mirror(double* a, int n, int from)
    {
        const int Tile = 64;
        for (int ib = from; ib < n; ib += Tile)
            for (int jb = from; jb <= ib; jb += Tile)
                for (int i = ib; i < Math.Min(ib + Tile, n); i++)
                    for (int j = jb; j < Math.Min(Math.Min(jb + Tile, n), i); j++)
                        a[(long)j * n + i] = a[(long)i * n + j];
    }

    private static void SwapSymmetric(double* a, int n, int x, int y)
    {
        for (int c = 0; c < n; c++)
            (a[(long)x * n + c], a[(long)y * n + c]) = (a[(long)y * n + c], a[(long)x * n + c]);
        for (int r = 0; r < n; r++)
            (a[(long)r * n + x], a[(long)r * n + y]) = (a[(long)r * n + y], a[(long)r * n + x]);
    }
}
