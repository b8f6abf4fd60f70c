using GenMetrics.Linalg;

namespace GenMetrics.Tests.Linalg;

public class DgemmTests
{
    private static double[] Random(Random rng, int count)
    {
        var r = new double[count];
        for (int i = 0; i < count; i++) r[i] = rng.NextDouble() * 2 - 1;
        return r;
    }

    // Odd shapes straddle the register tile (8 x 16 or 6 x 8), the KC = 256 depth split and the MC blocks.
    [TestCase(1, 1, 1)]
    [TestCase(7, 5, 3)]
    [TestCase(17, 33, 9)]
    [TestCase(97, 45, 300)]
    [TestCase(130, 131, 257)]
    [TestCase(200, 19, 513)]
    public void MultiplyAddMatchesPlainLoopsForEveryTransposeLayout(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                var a = Random(rng, m * k);
                var b = Random(rng, k * n);
                int ldc = n + 3;
                var c = Random(rng, m * ldc);
                var expected = (double[])c.Clone();
                const double alpha = -0.75;
                // transA: A stored k x m (op(A) = Aᵀ); transB: B stored n x k.
                long aRs = transA ? 1 : k, aCs = transA ? m : 1;
                long bRs = transB ? 1 : n, bCs = transB ? k : 1;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double s = 0;
                        for (int p = 0; p < k; p++) s += a[i * aRs + p * aCs] * b[p * bRs + j * bCs];
                        expected[i * ldc + j] += alpha * s;
                    }
                Dgemm.MultiplyAdd(m, n, k, alpha, a, 0, aRs, aCs, b, 0, bRs, bCs, c, 0, ldc);
                for (int i = 0; i < c.Length; i++)
                    Assert.That(c[i], Is.EqualTo(expected[i]).Within(1e-12 * (k + 1)), $"transA={transA} transB={transB} at {i / ldc},{i % ldc}");
            }
    }

    [TestCase(1, 1)]
    [TestCase(23, 7)]
    [TestCase(150, 301)]
    [TestCase(333, 64)]
    public void LowerOnlyGivesTheLowerTriangleOfXTransposeX(int dim, int rows)
    {
        var rng = new Random(dim + rows);
        var x = Random(rng, rows * dim);
        var c = new double[dim * dim];
        Dgemm.MultiplyAdd(dim, dim, rows, 1.0, x, 0, 1, dim, x, 0, dim, 1, c, 0, dim, lowerOnly: true);
        for (int i = 0; i < dim; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int r = 0; r < rows; r++) s += x[r * dim + i] * x[r * dim + j];
                Assert.That(c[i * dim + j], Is.EqualTo(s).Within(1e-12 * rows), $"at {i},{j}");
            }
    }
}
