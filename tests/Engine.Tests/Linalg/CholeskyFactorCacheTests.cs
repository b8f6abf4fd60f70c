using GenMetrics.Features;
using GenMetrics.Linalg;

namespace GenMetrics.Tests.Linalg;

/// <summary>
/// The covariance check's Cholesky factor handed to FID's square-root trace (perf/NOTES.md, "CLI FID from
/// statistics files, second pass"): the same value as factoring afresh, and never a stale factor.
/// </summary>
public class CholeskyFactorCacheTests
{
    // 300 > the 128-column Cholesky block and the 256-column congruence block.
    [TestCase(300)]
    [TestCase(40)]
    public void TraceFromTheCheckedFactorIsBitIdenticalToFactoringAfresh(int dim)
    {
        var rng = new Random(dim + 7);
        var a = ReferenceLinalg.RandomCovariance(rng, dim, 3 * dim);
        var b = ReferenceLinalg.RandomCovariance(rng, dim, 3 * dim);
        CholeskyFactorCache.Clear();
        double fresh = TraceSqrtProduct.Compute(a, b, dim);
        CovarianceChecks.EnsurePositiveSemiDefinite(b, dim, "b.npz");
        double reused = TraceSqrtProduct.Compute(a, b, dim);
        Assert.That(BitConverter.DoubleToInt64Bits(reused), Is.EqualTo(BitConverter.DoubleToInt64Bits(fresh)));
        Assert.That(reused, Is.EqualTo(ReferenceLinalg.TraceSqrtProduct(a, b, dim)).Within(1e-9 * fresh));
        // Taken once: the slot is empty afterwards.
        Assert.That(CholeskyFactorCache.TryTake(b, dim), Is.Null);
    }

    [Test]
    public void ACovarianceChangedAfterItsCheckIsFactoredAfresh()
    {
        const int dim = 50;
        var rng = new Random(3);
        var a = ReferenceLinalg.RandomCovariance(rng, dim, 200);
        var b = ReferenceLinalg.RandomCovariance(rng, dim, 200);
        CovarianceChecks.EnsurePositiveSemiDefinite(b, dim, "b.npz");
        // Doubling one diagonal entry keeps b positive definite and changes the answer.
        b[7 * dim + 7] *= 2;
        double expected = ReferenceLinalg.TraceSqrtProduct(a, b, dim);
        Assert.That(TraceSqrtProduct.Compute(a, b, dim), Is.EqualTo(expected).Within(1e-9 * expected));
    }

    [Test]
    public void OnlyTheSecondArgumentsFactorIsUsed()
    {
        const int dim = 30;
        var rng = new Random(4);
        var a = ReferenceLinalg.RandomCovariance(rng, dim, 100);
        var b = ReferenceLinalg.RandomCovariance(rng, dim, 100);
        CovarianceChecks.EnsurePositiveSemiDefinite(a, dim, "a.npz");
        double expected = ReferenceLinalg.TraceSqrtProduct(a, b, dim);
        Assert.That(TraceSqrtProduct.Compute(a, b, dim), Is.EqualTo(expected).Within(1e-9 * expected));
        // a's factor is still held (not a's trace's Σb) and is handed out for a.
        var held = CholeskyFactorCache.TryTake(a, dim);
        Assert.That(held, Is.Not.Null);
        System.Buffers.ArrayPool<double>.Shared.Return(held!);
    }

    [Test]
    public void FingerprintSeesAnyOneChangedValue()
    {
        var values = new double[1000];
        var rng = new Random(5);
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextDouble();
        ulong original = CholeskyFactorCache.Fingerprint(values, values.Length);
        foreach (int i in new[] { 0, 1, 3, 500, 998, 999 })
        {
            double old = values[i];
            values[i] = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(old) ^ 1);
            Assert.That(CholeskyFactorCache.Fingerprint(values, values.Length), Is.Not.EqualTo(original), $"index {i}");
            values[i] = old;
        }
        // Two swapped values (a permutation) are seen too.
        (values[10], values[11]) = (values[11], values[10]);
        Assert.That(CholeskyFactorCache.Fingerprint(values, values.Length), Is.Not.EqualTo(original));
    }

    [TestCase(200, 3, 150)]
    [TestCase(200, 130, 131)]
    [TestCase(70, 0, 69)]
    public void FirstAsymmetryIsTheFirstPairInRowMajorOrder(int dim, int i, int j)
    {
        var rng = new Random(dim);
        var sigma = ReferenceLinalg.RandomCovariance(rng, dim, 2 * dim);
        Assert.That(CovarianceChecks.FirstAsymmetry(sigma, dim), Is.Null);
        sigma[(long)j * dim + i] += 1;
        // A later pair (in a later tile row, and one in the same row) must not be reported first.
        sigma[(long)(dim - 1) * dim + (i + 1)] += 1;
        sigma[(long)(j + 1 < dim ? j + 1 : j) * dim + i] += j + 1 < dim ? 1 : 0;
        Assert.That(CovarianceChecks.FirstAsymmetry(sigma, dim), Is.EqualTo(((int, int)?)(i, j)));
    }
}
