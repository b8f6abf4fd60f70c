using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Tests.Metrics;

public class KnnMetricsTests
{
    private readonly CpuBackend _backend = new();

    [OneTimeTearDown]
    public void TearDown() => _backend.Dispose();

    // Every metric of the engine lies within the float64 reference's [Lower, Upper] band, and the band
    // (how much float32 rounding may matter) is narrow.
    private void AssertMatchesReference(FeatureMatrix real, FeatureMatrix fake, int[] ks)
    {
        var result = KnnMetrics.Compute(real, fake, ks, _backend);
        var reference = new KnnReference(real, fake);
        Assert.That(result.PerK, Has.Count.EqualTo(ks.Length));
        for (int q = 0; q < ks.Length; q++)
        {
            var at = result.PerK[q];
            Assert.That(at.K, Is.EqualTo(ks[q]));
            double[] engine = [at.Precision, at.Recall, at.PrdcPrecision, at.PrdcRecall, at.Density, at.Coverage,
                at.ComplementPrecision, at.SymmetricPrecision, at.SymmetricRecall];
            var lower = reference.Compute(ks[q], ambiguousAs: false).ToArray();
            var upper = reference.Compute(ks[q], ambiguousAs: true).ToArray();
            for (int m = 0; m < engine.Length; m++)
            {
                string what = $"{KnnReference.Values.Names[m]} at k = {ks[q]}";
                Assert.That(engine[m], Is.InRange(lower[m] - 1e-12, upper[m] + 1e-12), what);
                Assert.That(upper[m] - lower[m], Is.LessThanOrEqualTo(0.02), what + ": too many ambiguous samples");
            }
        }
    }

    [Test]
    public void GaussianSetsMatchFloat64Reference() =>
        AssertMatchesReference(
            KnnReference.Gaussian(200, 16, seed: 1, name: "real"),
            KnnReference.Gaussian(180, 16, seed: 2, offset: 0.3f, scale: 1.2f, name: "fake"),
            [1, 3, 5]);

    [Test]
    public void FewerSamplesThanDimensionsMatchFloat64Reference() =>
        AssertMatchesReference(
            KnnReference.Gaussian(40, 100, seed: 3, offset: 5f, name: "real"),
            KnnReference.Gaussian(30, 100, seed: 4, offset: 5.2f, name: "fake"),
            [3, 5]);

    [Test]
    public void OneDimensionalFeaturesMatchFloat64Reference() =>
        AssertMatchesReference(
            KnnReference.Gaussian(150, 1, seed: 5, name: "real"),
            KnnReference.Gaussian(90, 1, seed: 6, offset: 0.5f, name: "fake"),
            [2, 3, 7]);

    [Test]
    public void LargeOffsetFeaturesMatchFloat64Reference() =>
        // Features far from the origin (like post-ReLU VGG features): the mean shift keeps the Gram form accurate.
        AssertMatchesReference(
            KnnReference.Gaussian(120, 32, seed: 7, offset: 100f, name: "real"),
            KnnReference.Gaussian(110, 32, seed: 8, offset: 100.2f, name: "fake"),
            [3]);

    [Test]
    public void SetsSpanningSeveralTilesMatchFloat64Reference() =>
        // More rows than one row block and one column block, so that the symmetric radii pass and the
        // per-thread column reductions are exercised across tile borders; D is tiny to keep this fast.
        AssertMatchesReference(
            KnnReference.Gaussian(2100, 2, seed: 22, name: "real"),
            KnnReference.Gaussian(600, 2, seed: 23, offset: 0.2f, name: "fake"),
            [3]);

    [Test]
    public void SeveralKAtOnceEqualSeparateRuns()
    {
        var real = KnnReference.Gaussian(130, 8, seed: 9, name: "real");
        var fake = KnnReference.Gaussian(110, 8, seed: 10, offset: 0.2f, name: "fake");
        var together = KnnMetrics.Compute(real, fake, [5, 1, 3], _backend);
        foreach (var at in together.PerK)
            Assert.That(KnnMetrics.Compute(real, fake, [at.K], _backend).PerK[0], Is.EqualTo(at));
    }

    // Real: 10 distinct grid points, 4 exact copies each, so with k = 3 every real radius is 0 (itself
    // plus 3 duplicates). Fake: 4 copies each of the first 6 real points and of 5 points off the grid, so
    // every fake radius is 0 too. NVIDIA (≤): a copy at distance 0 ≤ 0 is inside; prdc/manifmetric (<):
    // nothing lies inside a radius-0 ball (metrics-spec §0, §12).
    [Test]
    public void DuplicatesSeparateLessOrEqualFromStrictLess()
    {
        const int dim = 3, copies = 4;
        var realData = new List<float>();
        for (int p = 0; p < 10; p++)
            for (int c = 0; c < copies; c++) realData.AddRange([p * 10f, p % 3 * 7f, -p * 4f]);
        var fakeData = new List<float>();
        for (int p = 0; p < 6; p++)
            for (int c = 0; c < copies; c++) fakeData.AddRange([p * 10f, p % 3 * 7f, -p * 4f]);
        for (int p = 0; p < 5; p++)
            for (int c = 0; c < copies; c++) fakeData.AddRange([p * 10f + 5f, 100f, 3f * p]);
        var real = new FeatureMatrix(realData.ToArray(), 40, dim, "real");
        var fake = new FeatureMatrix(fakeData.ToArray(), 44, dim, "fake");

        Assert.That(_backend.KnnRadiiSquared(real, [3])[0], Is.All.EqualTo(0f));
        Assert.That(_backend.KnnRadiiSquared(fake, [3])[0], Is.All.EqualTo(0f));

        var at = KnnMetrics.Compute(real, fake, [3], _backend).PerK[0];
        Assert.Multiple(() =>
        {
            Assert.That(at.Precision, Is.EqualTo(24.0 / 44), "NVIDIA: the 24 exact copies of reals are inside (0 ≤ 0)");
            Assert.That(at.Recall, Is.EqualTo(24.0 / 40), "NVIDIA: the 24 reals copied among the fakes are inside");
            Assert.That(at.PrdcPrecision, Is.EqualTo(0.0), "prdc: a radius-0 ball contains nothing (0 < 0 is false)");
            Assert.That(at.PrdcRecall, Is.EqualTo(0.0));
            Assert.That(at.Density, Is.EqualTo(0.0));
            Assert.That(at.Coverage, Is.EqualTo(0.0));
            Assert.That(at.ComplementPrecision, Is.EqualTo(0.0));
        });
        // The reference agrees, with no tolerance at all since every decisive distance is exactly 0.
        var expected = new KnnReference(real, fake, relativeTolerance: 0).Compute(3, ambiguousAs: false);
        Assert.That(new[] { at.Precision, at.Recall, at.PrdcPrecision, at.PrdcRecall, at.Density, at.Coverage, at.ComplementPrecision },
            Is.EqualTo(new[] { expected.Precision, expected.Recall, expected.PrdcPrecision, expected.PrdcRecall, expected.Density, expected.Coverage, expected.ComplementPrecision }));

        // With k = 4 the radii become positive (a fifth, distinct neighbour) and strict < includes the copies again.
        var k4 = KnnMetrics.Compute(real, fake, [4], _backend).PerK[0];
        Assert.That(k4.PrdcPrecision, Is.EqualTo(k4.Precision));
        Assert.That(k4.PrdcPrecision, Is.GreaterThanOrEqualTo(24.0 / 44));
    }

    [Test]
    public void RadiiAreTheKPlusFirstSmallestIncludingSelf()
    {
        var x = KnnReference.Gaussian(300, 12, seed: 11, name: "x");
        var radii = _backend.KnnRadiiSquared(x, [1, 4, 10]);
        var self = KnnReference.Pairwise(x, x);
        int[] ks = [1, 4, 10];
        for (int q = 0; q < ks.Length; q++)
        {
            var expected = KnnReference.Radii(self, ks[q]);
            for (int i = 0; i < x.Rows; i++)
                Assert.That(radii[q][i], Is.EqualTo(expected[i]).Within(1e-4 * (1 + expected[i])), $"k {ks[q]} row {i}");
        }
    }

    [Test]
    public void CrossNearestNeighbourMatchesReference()
    {
        var real = KnnReference.Gaussian(140, 6, seed: 12, name: "real");
        var fake = KnnReference.Gaussian(70, 6, seed: 13, offset: 0.4f, name: "fake");
        var cross = _backend.ReduceCrossDistances(fake, real, new CrossRequest { RealRadiiSquared = [], FakeRadiiSquared = [] });
        var d = KnnReference.Pairwise(fake, real);
        for (int g = 0; g < fake.Rows; g++)
        {
            double best = Enumerable.Range(0, real.Rows).Min(j => d[g, j]);
            Assert.That(cross.FakeNearestRealDistanceSquared[g], Is.EqualTo(best).Within(1e-4 * (1 + best)));
            Assert.That(d[g, cross.FakeNearestRealIndex[g]], Is.EqualTo(best).Within(1e-4 * (1 + best)));
        }
        for (int j = 0; j < real.Rows; j++)
        {
            double best = Enumerable.Range(0, fake.Rows).Min(g => d[g, j]);
            Assert.That(cross.RealNearestFakeDistanceSquared[j], Is.EqualTo(best).Within(1e-4 * (1 + best)));
        }
        Assert.That(cross.Realism, Is.Null);
    }

    [Test]
    public void RealismMatchesFloat64Reference()
    {
        var real = KnnReference.Gaussian(160, 10, seed: 14, name: "real");
        var fake = KnnReference.Gaussian(60, 10, seed: 15, offset: 0.3f, name: "fake");
        var reference = new KnnReference(real, fake).Realism(3, 50, 1e-5);

        var standalone = Realism.Scores(real, fake, _backend);
        var viaKnn = KnnMetrics.Compute(real, fake, [5], _backend, realism: true).Realism!;
        Assert.That(standalone.K, Is.EqualTo(3));
        Assert.That(viaKnn.Scores, Is.EqualTo(standalone.Scores));
        for (int g = 0; g < fake.Rows; g++)
            Assert.That(standalone.Scores[g], Is.EqualTo(reference[g]).Within(1e-3 * reference[g] + 1e-6), $"fake {g}");
        // Pruning at the median zeroes about half of the radii, so some scores differ from the unpruned maximum.
        Assert.That(reference, Has.Some.GreaterThan(0));
    }

    [Test]
    public void NearestNeighbourRealismMatchesFloat64Reference()
    {
        var real = KnnReference.Gaussian(120, 6, seed: 24, name: "real");
        var fake = KnnReference.Gaussian(50, 6, seed: 25, offset: 0.2f, name: "fake");
        var scores = Realism.NearestNeighbourScores(real, fake, _backend);
        var reference = new KnnReference(real, fake);
        var radii = KnnReference.Radii(reference.RealReal, 3);
        for (int g = 0; g < fake.Rows; g++)
        {
            int nearest = Enumerable.Range(0, real.Rows).MinBy(j => reference.FakeReal[g, j]);
            double expected = radii[nearest] / reference.FakeReal[g, nearest];
            Assert.That(scores[g], Is.EqualTo(expected).Within(1e-3 * expected), $"fake {g}");
        }
    }

    [Test]
    public void PercentileMatchesNumpyLinearInterpolation()
    {
        // np.percentile([1, 2, 3, 4.7], q) for q = 50, 10, 90 → 2.5, 1.3, 4.19
        double[] values = [4.7, 1, 3, 2];
        Assert.That(Realism.Percentile(values, 50), Is.EqualTo(2.5).Within(1e-12));
        Assert.That(Realism.Percentile(values, 10), Is.EqualTo(1.3).Within(1e-12));
        Assert.That(Realism.Percentile(values, 90), Is.EqualTo(3 + 0.7 * (4.7 - 3)).Within(1e-12));
        var pruned = Realism.PruneRadii(values, 50);
        Assert.That(pruned, Is.EqualTo(new[] { 0.0, 1, 0, 2 }));
    }

    [Test]
    public void KNotBelowSampleCountIsAnInputError()
    {
        var real = KnnReference.Gaussian(3, 4, seed: 16, name: "real.npz");
        var fake = KnnReference.Gaussian(10, 4, seed: 17, name: "fake.npz");
        var e = Assert.Throws<InputException>(() => KnnMetrics.Compute(real, fake, [3], _backend));
        Assert.That(e!.Message, Is.EqualTo("real.npz: needs at least k+1 = 4 samples for k = 3, has 3"));
        Assert.Throws<InputException>(() => KnnMetrics.Compute(fake, real, [3], _backend));
        Assert.Throws<InputException>(() => KnnMetrics.Compute(fake, fake, [0], _backend));
    }

    [Test]
    public void MismatchedDimensionsAreAnInputError()
    {
        var real = KnnReference.Gaussian(10, 4, seed: 18, name: "real.npz");
        var fake = KnnReference.Gaussian(10, 5, seed: 19, name: "fake.npz");
        var e = Assert.Throws<InputException>(() => KnnMetrics.Compute(real, fake, [3], _backend));
        Assert.That(e!.Message, Does.Contain("real.npz").And.Contain("fake.npz"));
    }

    [Test]
    public void ProgressReachesOne()
    {
        var real = KnnReference.Gaussian(600, 4, seed: 20, name: "real");
        var fake = KnnReference.Gaussian(300, 4, seed: 21, name: "fake");
        var reports = new List<double>();
        var progress = new SynchronousProgress(v => { lock (reports) reports.Add(v); });
        KnnMetrics.Compute(real, fake, [3], _backend, progress: progress);
        Assert.That(reports, Is.Not.Empty);
        Assert.That(reports.Max(), Is.EqualTo(1.0).Within(1e-12));
        Assert.That(reports, Is.All.InRange(0.0, 1.0 + 1e-12));
    }

    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
