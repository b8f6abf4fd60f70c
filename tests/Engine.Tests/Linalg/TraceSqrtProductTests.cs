using GenMetrics.Compute;
using GenMetrics.Linalg;

namespace GenMetrics.Tests.Linalg;

public class TraceSqrtProductTests
{
    private static readonly CpuBackend Backend = new();

    // Well-conditioned full-rank covariances (rows ≫ dim): both routes are backward stable and the
    // eigenvalues of Σa^½ Σb Σa^½ are well separated from 0, so they agree to a few hundred ulps.
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(5)]
    [TestCase(17)]
    [TestCase(64)]
    [TestCase(70)]
    public void MatchesJacobiReferenceOnWellConditionedCovariances(int dim)
    {
        var rng = new Random(dim);
        var a = ReferenceLinalg.RandomCovariance(rng, dim, 4 * dim + 10);
        var b = ReferenceLinalg.RandomCovariance(rng, dim, 4 * dim + 10);
        double expected = ReferenceLinalg.TraceSqrtProduct(a, b, dim);
        double actual = Backend.TraceSqrtProduct(a, b, dim);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-9 * expected));
        // Symmetric in its arguments (Tr √(AB) = Tr √(BA)); exercises factoring the other matrix.
        Assert.That(Backend.TraceSqrtProduct(b, a, dim), Is.EqualTo(expected).Within(1e-9 * expected));
    }

    [Test]
    public void OneDimensionIsTheGeometricMean()
    {
        Assert.That(Backend.TraceSqrtProduct([4.0], [9.0], 1), Is.EqualTo(6.0).Within(1e-15));
        Assert.That(Backend.TraceSqrtProduct([4.0], [0.0], 1), Is.EqualTo(0.0));
    }

    // N < D: both covariances have rank ≤ N − 1 and the exact answer has D − N + 1 zero eigenvalues that
    // rounding turns into ±(eps·‖Σ‖)-sized values. Their square roots are ~√eps·√‖Σ‖ ≈ 1.5e-8·√‖Σ‖ each,
    // so the two routes can only agree to about (D − N)·1.5e-8 relative: 1e-6 covers that with margin.
    [TestCase(20, 8)]
    [TestCase(48, 30)]
    [TestCase(64, 10)]
    public void SingularCovariancesFromFewerSamplesThanDimensionsStayFinite(int dim, int rows)
    {
        var rng = new Random(dim * rows);
        var a = ReferenceLinalg.RandomCovariance(rng, dim, rows);
        var b = ReferenceLinalg.RandomCovariance(rng, dim, rows);
        double expected = ReferenceLinalg.TraceSqrtProduct(a, b, dim);
        double actual = Backend.TraceSqrtProduct(a, b, dim);
        Assert.That(double.IsFinite(actual), Is.True);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-6 * expected));
    }

    // Orders above the 256-column block of the congruence C = Lᵀ Σa L, which is built block column by block
    // column over L's own storage: 3 blocks (the last partial), full rank (blocked Cholesky) and rank-deficient
    // (pivoted Cholesky: C is r x r with r < D, its rows compacted from L's stride D). The Jacobi reference
    // takes the eigenvalues of Σa^½ Σb Σa^½, a different route.
    [TestCase(300, 700, 1e-9)]
    [TestCase(300, 220, 1e-6)]
    public void MatchesJacobiReferenceAcrossSeveralColumnBlocks(int dim, int rows, double tolerance)
    {
        var rng = new Random(dim + rows);
        var a = ReferenceLinalg.RandomCovariance(rng, dim, rows);
        var b = ReferenceLinalg.RandomCovariance(rng, dim, rows);
        double expected = ReferenceLinalg.TraceSqrtProduct(a, b, dim);
        Assert.That(Backend.TraceSqrtProduct(a, b, dim), Is.EqualTo(expected).Within(tolerance * expected));
        Assert.That(Backend.TraceSqrtProduct(b, a, dim), Is.EqualTo(expected).Within(tolerance * expected));
    }

    [Test]
    public void ExactlySingularMatrixWithZeroRowsAndColumnsIsHandled()
    {
        // Constant features give exact zero rows and columns in Σ; Σa Σb here has rank 1 and Tr √ = √2.
        // A zero eigenvalue of the r x r congruence comes out as ±eps·‖C‖ and its square root as
        // ~√eps·√‖C‖ ≈ 1.5e-8·√‖C‖ (‖C‖ ≈ 2 here): the √ is not Lipschitz at 0, so 1e-7 is the honest bound.
        var a = new double[] { 2, 0, 1, 0, 0, 0, 1, 0, 3 };
        var b = new double[] { 1, 0, 0, 0, 5, 0, 0, 0, 0 };
        double expected = Math.Sqrt(2);
        Assert.That(ReferenceLinalg.TraceSqrtProduct(a, b, 3), Is.EqualTo(expected).Within(1e-7));
        Assert.That(Backend.TraceSqrtProduct(a, b, 3), Is.EqualTo(expected).Within(1e-7));
        Assert.That(Backend.TraceSqrtProduct(b, a, 3), Is.EqualTo(expected).Within(1e-7));
        Assert.That(Backend.TraceSqrtProduct(new double[9], b, 3), Is.EqualTo(0.0));
    }

    [TestCase(40)]
    [TestCase(150)]
    [TestCase(203)]
    public void SymmetricEigenvaluesMatchJacobi(int n)
    {
        var rng = new Random(n);
        var m = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = rng.NextDouble() * 2 - 1;
        var expected = ReferenceLinalg.Jacobi(ReferenceLinalg.ToSquare(m, n)).Values.Order().ToArray();
        var actual = SymmetricEigenvalues.Compute((double[])m.Clone(), n).Order().ToArray();
        for (int i = 0; i < n; i++) Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-12 * n));
        // Unblocked-only path (the blocked one hands over its last 4 panels to it).
        var d = new double[n];
        var e = new double[n];
        SymmetricEigenvalues.Tridiagonalize((double[])m.Clone(), n, d, e, blockedPanel: 0);
        SymmetricEigenvalues.TridiagonalQl(d, e, n);
        var unblocked = d.Order().ToArray();
        for (int i = 0; i < n; i++) Assert.That(unblocked[i], Is.EqualTo(expected[i]).Within(1e-12 * n));
    }

    [TestCase(10, 10)]
    [TestCase(130, 130)]
    [TestCase(130, 40)]
    public void PivotedCholeskyReconstructsTheMatrix(int dim, int rows)
    {
        var rng = new Random(dim + 7 * rows);
        var s = ReferenceLinalg.RandomCovariance(rng, dim, rows);
        var l = (double[])s.Clone();
        var perm = new int[dim];
        int rank = PivotedCholesky.Factor(l, dim, perm);
        Assert.That(rank, Is.LessThanOrEqualTo(Math.Min(dim, rows - 1)));
        Assert.That(rank, Is.GreaterThanOrEqualTo(Math.Min(dim, rows - 1) - 1));
        double scale = 0;
        for (int i = 0; i < dim; i++) scale = Math.Max(scale, s[i * dim + i]);
        for (int i = 0; i < dim; i++)
            for (int j = 0; j < dim; j++)
            {
                double v = 0;
                for (int p = 0; p < Math.Min(rank, Math.Min(i, j) + 1); p++) v += l[i * dim + p] * l[j * dim + p];
                Assert.That(v, Is.EqualTo(s[perm[i] * dim + perm[j]]).Within(1e-11 * scale), $"at {i},{j}");
            }
    }

    // Sizes across block boundaries (BlockSize = 128): one block, exact multiples, a partial last block.
    [TestCase(5)]
    [TestCase(128)]
    [TestCase(300)]
    public void BlockedCholeskyReconstructsFullRankMatrices(int dim)
    {
        var rng = new Random(dim);
        var s = ReferenceLinalg.RandomCovariance(rng, dim, 3 * dim + 10);
        var l = (double[])s.Clone();
        Assert.That(BlockedCholesky.TryFactor(l, dim), Is.True);
        double scale = 0;
        for (int i = 0; i < dim; i++) scale = Math.Max(scale, s[i * dim + i]);
        for (int i = 0; i < dim; i++)
            for (int j = 0; j <= i; j++)
            {
                double v = 0;
                for (int p = 0; p <= j; p++) v += l[i * dim + p] * l[j * dim + p];
                Assert.That(v, Is.EqualTo(s[i * dim + j]).Within(1e-12 * scale), $"at {i},{j}");
            }
    }

    [Test]
    public void BlockedCholeskyRefusesSingularMatricesAndTheTraceStillMatches()
    {
        const int dim = 200;
        var rng = new Random(3);
        var a = ReferenceLinalg.RandomCovariance(rng, dim, 3 * dim);
        var b = ReferenceLinalg.RandomCovariance(rng, dim, 150); // rank 149: the pivoted route must take it
        Assert.That(BlockedCholesky.TryFactor((double[])b.Clone(), dim), Is.False);
        double expected = ReferenceLinalg.TraceSqrtProduct(a, b, dim);
        Assert.That(Backend.TraceSqrtProduct(a, b, dim), Is.EqualTo(expected).Within(1e-6 * expected)); // √eps noise of the null space, as above
    }

    [Test]
    public void FullRankTraceAcrossSeveralCholeskyBlocksMatchesJacobi()
    {
        const int dim = 260;
        var rng = new Random(11);
        var a = ReferenceLinalg.RandomCovariance(rng, dim, 4 * dim);
        var b = ReferenceLinalg.RandomCovariance(rng, dim, 4 * dim);
        double expected = ReferenceLinalg.TraceSqrtProduct(a, b, dim);
        Assert.That(Backend.TraceSqrtProduct(a, b, dim), Is.EqualTo(expected).Within(1e-9 * expected));
    }
}
