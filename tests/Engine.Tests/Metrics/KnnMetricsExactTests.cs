using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Tests.Metrics;

/// <summary>
/// Every k-NN key equals an independent float64 brute force (KnnReference: plain loops, no error band) exactly,
/// on the sets where float32 Gram-form distances get decisions wrong (issue 13), at k = 1..10 with both ≤ and &lt;.
/// The CUDA backend runs the same checks in fp32, tf32 and fp16 (CudaBackendGpuTests, Gpu category).
/// </summary>
public class KnnMetricsExactTests
{
    private readonly CpuBackend _cpu = new();

    [OneTimeTearDown]
    public void TearDown() => _cpu.Dispose();

    /// <summary>Asserts every key at every k, and the realism scores, equal the float64 brute force; returns the result.</summary>
    internal static KnnMetricsResult AssertExact(FeatureMatrix real, FeatureMatrix fake, int[] ks, IComputeBackend backend, KnnReference? reference = null)
    {
        reference ??= new KnnReference(real, fake, relativeTolerance: 0);
        Assert.That(reference.Tolerance, Is.Zero);
        var result = KnnMetrics.Compute(real, fake, ks, backend, realism: true);
        for (int q = 0; q < ks.Length; q++)
        {
            var at = result.PerK[q];
            double[] engine = [at.Precision, at.Recall, at.PrdcPrecision, at.PrdcRecall, at.Density, at.Coverage,
                at.ComplementPrecision, at.SymmetricPrecision, at.SymmetricRecall];
            var expected = reference.Compute(ks[q], ambiguousAs: false).ToArray();
            for (int m = 0; m < engine.Length; m++)
                Assert.That(engine[m], Is.EqualTo(expected[m]), $"{KnnReference.Values.Names[m]} at k = {ks[q]} ({backend.DistancePrecision})");
        }
        var realism = reference.Realism(Realism.DefaultK, Realism.DefaultPercentile, Realism.DefaultEpsilon);
        var scores = result.Realism!.Scores;
        int differing = Enumerable.Range(0, scores.Length).Count(g => scores[g] != (float)realism[g]);
        Assert.That(differing, Is.Zero, $"realism scores differing from float64 ({backend.DistancePrecision})");
        return result;
    }

    [Test]
    public void DigitsSplitByLabelEqualFloat64AtEveryK()
    {
        var (real, fake) = KnnTestSets.Digits();
        Assert.That(real.Rows + fake.Rows, Is.EqualTo(1797));
        var result = AssertExact(real, fake, Enumerable.Range(1, 10).ToArray(), _cpu);
        // Integer pixels: exact ties with radii abound, and float64 has to decide them.
        Assert.That(result.Refinement.Decisions, Is.GreaterThan(0));
    }

    [Test]
    public void CoarseGridEqualsFloat64AtEveryK() =>
        AssertExact(KnnTestSets.CoarseGrid().Real, KnnTestSets.CoarseGrid().Fake, Enumerable.Range(1, 10).ToArray(), _cpu);

    [Test]
    public void HeavyDuplicationEqualsFloat64()
    {
        var (real, fake) = KnnTestSets.Duplicates();
        AssertExact(real, fake, [1, 2, 3, 5, 8], _cpu);
    }

    [TestCase(1e6f)]
    [TestCase(1e7f)]
    public void OneHugeValueEqualsFloat64(float value)
    {
        var (real, fake) = KnnTestSets.LargeValue(value);
        AssertExact(real, fake, [3, 5], _cpu);
    }

    [Test]
    public void ContinuousDataEqualsFloat64() =>
        AssertExact(KnnTestSets.Continuous().Real, KnnTestSets.Continuous().Fake, [3, 5], _cpu);

    /// <summary>
    /// The continuous set is one where float32 alone is not enough: the Gram-form distances the backends
    /// compute decide some memberships against the float64 real radii differently from float64 distances.
    /// </summary>
    [Test]
    public void ContinuousSetFlipsFloat32Decisions()
    {
        var (real, fake) = KnnTestSets.Continuous();
        var reference = new KnnReference(real, fake, relativeTolerance: 0);
        var radii = KnnReference.Radii(reference.RealReal, 3);
        var tiles = new SquaredDistanceTiles(fake, real, CpuBackend.MeanAsShift(real)).CreateWorker();
        var tile = new float[real.Rows];
        int flips = 0;
        for (int g = 0; g < fake.Rows; g++)
        {
            tiles.Compute(g, 1, 0, real.Rows, tile);
            for (int j = 0; j < real.Rows; j++)
                if ((tile[j] <= radii[j]) != (reference.FakeReal[g, j] <= radii[j])) flips++;
        }
        TestContext.Out.WriteLine($"{flips} of {fake.Rows * real.Rows} float32 decisions (≤ r_j, k = 3) differ from float64");
        Assert.That(flips, Is.GreaterThan(0), "float32 must get some decision wrong here for the set to mean anything");
    }
}
