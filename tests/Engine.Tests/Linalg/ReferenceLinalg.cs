namespace GenMetrics.Tests.Linalg;

/// <summary>Plain-loop float64 references, independent of the engine's Linalg code.</summary>
internal static class ReferenceLinalg
{
    /// <summary>Cyclic Jacobi eigen-decomposition of a symmetric n x n matrix: eigenvalues and column eigenvectors.</summary>
    public static (double[] Values, double[,] Vectors) Jacobi(double[,] input)
    {
        int n = input.GetLength(0);
        var a = (double[,])input.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, total = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    total += a[i, j] * a[i, j];
                    if (i != j) off += a[i, j] * a[i, j];
                }
            if (off <= 1e-30 * total) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[i, i];
        return (values, v);
    }

    public static double[,] Multiply(double[,] x, double[,] y)
    {
        int m = x.GetLength(0), k = x.GetLength(1), n = y.GetLength(1);
        var r = new double[m, n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += x[i, p] * y[p, j];
                r[i, j] = s;
            }
        return r;
    }

    /// <summary>Tr √(Σa Σb) = Σ √λ(Σa^½ Σb Σa^½), eigenvalues clamped at 0, all by Jacobi.</summary>
    public static double TraceSqrtProduct(double[] sigmaA, double[] sigmaB, int n)
    {
        var a = ToSquare(sigmaA, n);
        var b = ToSquare(sigmaB, n);
        var (w, v) = Jacobi(a);
        var root = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += v[i, k] * Math.Sqrt(Math.Max(w[k], 0)) * v[j, k];
                root[i, j] = s;
            }
        var m = Multiply(Multiply(root, b), root);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) m[i, j] = m[j, i] = 0.5 * (m[i, j] + m[j, i]);
        double sum = 0;
        foreach (double lambda in Jacobi(m).Values) sum += Math.Sqrt(Math.Max(lambda, 0));
        return sum;
    }

    public static double[,] ToSquare(double[] flat, int n)
    {
        var r = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) r[i, j] = flat[i * n + j];
        return r;
    }

    /// <summary>Two-pass covariance (np.cov) of row-major rows x dim data.</summary>
    public static (double[] Mean, double[] Covariance) MeanAndCovariance(double[] x, int rows, int dim, double divisor)
    {
        var mean = new double[dim];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < dim; j++) mean[j] += x[r * dim + j];
        for (int j = 0; j < dim; j++) mean[j] /= rows;
        var cov = new double[dim * dim];
        for (int i = 0; i < dim; i++)
            for (int j = 0; j < dim; j++)
            {
                double s = 0;
                for (int r = 0; r < rows; r++) s += (x[r * dim + i] - mean[i]) * (x[r * dim + j] - mean[j]);
                cov[i * dim + j] = s / divisor;
            }
        return (mean, cov);
    }

    /// <summary>Covariance-like SPD matrix from `rows` random features (rank min(rows − 1, dim)).</summary>
    public static double[] RandomCovariance(Random rng, int dim, int rows, double offset = 0)
    {
        var x = new double[rows * dim];
        var scales = new double[dim];
        for (int j = 0; j < dim; j++) scales[j] = 0.3 + 2 * rng.NextDouble();
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < dim; j++) x[r * dim + j] = offset + scales[j] * Gaussian(rng) + 0.5 * (j > 0 ? x[r * dim + j - 1] : 0);
        return MeanAndCovariance(x, rows, dim, rows - 1).Covariance;
    }

    public static double Gaussian(Random rng)
    {
        double u = 1 - rng.NextDouble(), v = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }
}
