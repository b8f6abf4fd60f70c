using GenMetrics.Linalg;

namespace GenMetrics.Tests.Linalg;

/// <summary>
/// The two-stage reduction (dense → band → tridiagonal) against independent references: the Jacobi
/// eigenvalue method (ReferenceLinalg) and matrices built with a known spectrum, A = Q Λ Qᵀ. Both
/// reductions are backward stable, so every eigenvalue must be within a small multiple of n·eps·‖A‖.
/// </summary>
public class TwoStageTridiagonalTests
{
    private const double Eps = 2.220446049250313e-16;

    // Orders around and across the bandwidth and the panel count; bandwidths that do and do not divide them.
    [TestCase(1, 2)]
    [TestCase(2, 2)]
    [TestCase(3, 2)]
    [TestCase(9, 4)]
    [TestCase(33, 32)]
    [TestCase(70, 5)]
    [TestCase(150, 16)]
    [TestCase(203, 32)]
    [TestCase(203, 7)]
    public void MatchesJacobiOnRandomSymmetricMatrices(int n, int bandwidth)
    {
        var rng = new Random(n * 31 + bandwidth);
        var m = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = rng.NextDouble() * 2 - 1;
        var expected = ReferenceLinalg.Jacobi(ReferenceLinalg.ToSquare(m, n)).Values.Order().ToArray();
        var actual = TwoStage(m, n, bandwidth);
        double norm = expected.Max(Math.Abs);
        for (int i = 0; i < n; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(20 * n * Eps * norm), $"eigenvalue {i}");
    }

    // Known spectra: ill-conditioned (1 down to 1e-14, the small ones must keep their absolute accuracy),
    // exactly singular (a block of zero eigenvalues, as a covariance of fewer samples than dimensions has),
    // and clustered (many equal eigenvalues, which makes reflectors of zero length appear in the chase).
    [TestCase(130, 16, "graded")]
    [TestCase(261, 32, "singular")]
    [TestCase(100, 8, "clustered")]
    public void RecoversAKnownSpectrum(int n, int bandwidth, string kind)
    {
        var rng = new Random(n + bandwidth);
        var lambda = new double[n];
        for (int i = 0; i < n; i++)
            lambda[i] = kind switch
            {
                "graded" => Math.Pow(1e-14, (double)i / (n - 1)),
                "singular" => i < n / 3 ? 0 : 1 + rng.NextDouble(),
                _ => i % 3 == 0 ? 2.0 : 1.0,
            };
        var a = WithSpectrum(lambda, rng);
        var expected = lambda.Order().ToArray();
        var actual = TwoStage(a, n, bandwidth);
        for (int i = 0; i < n; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(20 * n * Eps * expected[^1]), $"eigenvalue {i}");
        // The default route (two-stage from TwoStageMinimumOrder on) and the one-stage one agree as well.
        var oneStage = SymmetricEigenvalues.Compute((double[])a.Clone(), n, twoStage: false).Order().ToArray();
        for (int i = 0; i < n; i++)
            Assert.That(oneStage[i], Is.EqualTo(expected[i]).Within(20 * n * Eps * expected[^1]), $"one-stage eigenvalue {i}");
    }

    [Test]
    public void ALargeCovarianceAgreesWithTheOneStageReduction()
    {
        // Above TwoStageMinimumOrder, with the default bandwidth, and not a multiple of it.
        const int n = 300;
        var rng = new Random(5);
        var s = ReferenceLinalg.RandomCovariance(rng, n, n + 50);
        var oneStage = SymmetricEigenvalues.Compute((double[])s.Clone(), n, twoStage: false).Order().ToArray();
        var twoStage = SymmetricEigenvalues.Compute((double[])s.Clone(), n).Order().ToArray();
        double norm = oneStage[^1];
        for (int i = 0; i < n; i++) Assert.That(twoStage[i], Is.EqualTo(oneStage[i]).Within(40 * n * Eps * norm), $"eigenvalue {i}");
    }

    // The root-free QL (used by Compute) against its reference twin, the classic QL with rotations, and
    // Jacobi: random, graded (1 .. 1e-12 diagonal, tiny couplings) and a cluster of zero eigenvalues.
    [TestCase(1, "random")]
    [TestCase(2, "random")]
    [TestCase(57, "random")]
    [TestCase(120, "graded")]
    [TestCase(90, "zeros")]
    public void RootFreeQlMatchesTheClassicQlAndJacobi(int n, string kind)
    {
        var rng = new Random(n);
        var d = new double[n];
        var e = new double[n];
        for (int i = 0; i < n; i++)
        {
            d[i] = kind switch { "graded" => Math.Pow(1e-12, (double)i / n), "zeros" => i < n / 2 ? 0 : rng.NextDouble(), _ => rng.NextDouble() * 2 - 1 };
            e[i] = i == n - 1 ? 0 : kind switch { "graded" => 1e-3 * d[i], "zeros" => i < n / 2 ? 0 : rng.NextDouble(), _ => rng.NextDouble() * 2 - 1 };
        }
        var full = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            full[i * n + i] = d[i];
            if (i + 1 < n) full[i * n + i + 1] = full[(i + 1) * n + i] = e[i];
        }
        var expected = ReferenceLinalg.Jacobi(ReferenceLinalg.ToSquare(full, n)).Values.Order().ToArray();
        var (d1, e1, d2, e2) = ((double[])d.Clone(), (double[])e.Clone(), (double[])d.Clone(), (double[])e.Clone());
        SymmetricEigenvalues.TridiagonalRootFreeQl(d1, e1, n);
        SymmetricEigenvalues.TridiagonalQl(d2, e2, n);
        var rootFree = d1.Order().ToArray();
        var classic = d2.Order().ToArray();
        double norm = Math.Max(expected.Max(Math.Abs), 1e-300);
        for (int i = 0; i < n; i++)
        {
            Assert.That(rootFree[i], Is.EqualTo(expected[i]).Within(10 * n * Eps * norm), $"root-free eigenvalue {i}");
            Assert.That(rootFree[i], Is.EqualTo(classic[i]).Within(10 * n * Eps * norm), $"root-free vs classic eigenvalue {i}");
        }
    }

    private static double[] TwoStage(double[] m, int n, int bandwidth)
    {
        var d = new double[n];
        var e = new double[n];
        TwoStageTridiagonal.Tridiagonalize((double[])m.Clone(), n, d, e, bandwidth);
        SymmetricEigenvalues.TridiagonalQl(d, e, n);
        return d.Order().ToArray();
    }

    /// <summary>Q Λ Qᵀ with Q a product of random Householder reflectors (orthogonal to rounding).</summary>
    private static double[] WithSpectrum(double[] lambda, Random rng)
    {
        int n = lambda.Length;
        var a = new double[n * n];
        for (int i = 0; i < n; i++) a[i * n + i] = lambda[i];
        var v = new double[n];
        var w = new double[n];
        for (int r = 0; r < 4; r++)
        {
            double norm2 = 0;
            for (int i = 0; i < n; i++) { v[i] = ReferenceLinalg.Gaussian(rng); norm2 += v[i] * v[i]; }
            double tau = 2 / norm2;
            // A ← H A H with H = I − τ v vᵀ: w = τ A v, w −= (τ/2)(wᵀv) v, A −= v wᵀ + w vᵀ.
            double wv = 0;
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int j = 0; j < n; j++) s += a[i * n + j] * v[j];
                w[i] = tau * s;
                wv += w[i] * v[i];
            }
            for (int i = 0; i < n; i++) w[i] -= 0.5 * tau * wv * v[i];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) a[i * n + j] -= v[i] * w[j] + w[i] * v[j];
        }
        return a;
    }
}
