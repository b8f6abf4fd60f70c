using GenMetrics.Compute;
using GenMetrics.Cuda;
using GenMetrics.Features;
using GenMetrics.Metrics;
using GenMetrics.Tests.Features;
using GenMetrics.Tests.Metrics;

namespace GenMetrics.Tests.Cuda;

/// <summary>
/// Sets larger than device memory (issue 15 item 6): the fake x real pass in row panels must give exactly the
/// resident pass's reductions (every count, flag, nearest distance and index, realism score) and the float64
/// reference's metrics. The device budget is forced small (<see cref="CudaBackend.DeviceMemoryBudget"/>), so
/// panels of 512 rows run on the emulator; a natively stored set (FeatureMatrix beyond one array) is streamed
/// the same way. Ignored without a usable CUDA device (the emulator is one: tests/cuda-emulator/run.sh).
/// </summary>
[Category("Gpu")]
[NonParallelizable]
public class CudaPanelsGpuTests
{
    private CudaBackend? _cuda;

    [OneTimeSetUp]
    public void OpenDevice()
    {
        if (CudaAvailability.Probe().UnavailableReason is not null) return;
        try
        {
            _cuda = CudaBackend.Create();
        }
        catch (Exception e) when (e is GenMetrics.Cuda.Interop.CudaException or InvalidOperationException)
        {
        }
    }

    [OneTimeTearDown]
    public void CloseDevice() => _cuda?.Dispose();

    private CudaBackend Cuda()
    {
        if (_cuda is null) Assert.Ignore($"CUDA unavailable: {CudaAvailability.Probe().UnavailableReason}");
        _cuda!.DeviceMemoryBudget = null;
        _cuda.TileSize = 256;
        return _cuda;
    }

    private static FeatureMatrix Random(int rows, int dim, int seed, float offset)
    {
        var r = new Random(seed);
        var data = new float[rows * dim];
        for (int i = 0; i < data.Length; i++) data[i] = offset + (float)(r.NextDouble() * 2 - 1);
        return new FeatureMatrix(data, rows, dim, $"set{seed}");
    }

    private static CrossRequest Request(FeatureMatrix fake, FeatureMatrix real, IComputeBackend backend, int[] ks)
    {
        var realRadii = backend.KnnRadiiSquared(real, ks);
        var fakeRadii = backend.KnnRadiiSquared(fake, ks);
        return new CrossRequest
        {
            RealRadiiSquared = Enumerable.Range(0, ks.Length).Select(q => realRadii[q]).ToArray(),
            FakeRadiiSquared = Enumerable.Range(0, ks.Length).Select(q => fakeRadii[q]).ToArray(),
            RealismRadiiSquared = realRadii[0],
        };
    }

    private static void AssertSame(CrossReductions expected, CrossReductions actual)
    {
        for (int k = 0; k < expected.FakeInsideRealCountLe.Length; k++)
        {
            Assert.That(actual.FakeInsideRealCountLe[k], Is.EqualTo(expected.FakeInsideRealCountLe[k]), $"count <= at k index {k}");
            Assert.That(actual.FakeInsideRealCountLt[k], Is.EqualTo(expected.FakeInsideRealCountLt[k]), $"count < at k index {k}");
            Assert.That(actual.RealInsideFakeLe[k], Is.EqualTo(expected.RealInsideFakeLe[k]), $"real inside fake <= at k index {k}");
            Assert.That(actual.RealInsideFakeLt[k], Is.EqualTo(expected.RealInsideFakeLt[k]), $"real inside fake < at k index {k}");
            Assert.That(actual.RealCoveredLt[k], Is.EqualTo(expected.RealCoveredLt[k]), $"covered at k index {k}");
            Assert.That(actual.FakeComplementLt[k], Is.EqualTo(expected.FakeComplementLt[k]), $"complement at k index {k}");
        }
        Assert.That(actual.FakeNearestRealDistanceSquared, Is.EqualTo(expected.FakeNearestRealDistanceSquared));
        Assert.That(actual.FakeNearestRealIndex, Is.EqualTo(expected.FakeNearestRealIndex));
        Assert.That(actual.RealNearestFakeDistanceSquared, Is.EqualTo(expected.RealNearestFakeDistanceSquared));
        Assert.That(actual.Realism, Is.EqualTo(expected.Realism));
    }

    [Test]
    public void CrossPassInRowPanelsEqualsTheResidentPass()
    {
        var cuda = Cuda();
        // 1300 x 1100 rows: panels of 512 give 3 x 3 pairs, the last ones partial.
        var fake = Random(1300, 24, 1, offset: 5.2f);
        var real = Random(1100, 24, 2, offset: 5f);
        int[] ks = [1, 3, 5];
        var request = Request(fake, real, cuda, ks);
        var resident = cuda.ReduceCrossDistances(fake, real, request);
        Assert.That(cuda.LastCrossPanels, Is.Null, "the sets fit: resident");

        var notices = new List<string>();
        cuda.Notice = notices.Add;
        try
        {
            cuda.DeviceMemoryBudget = 1; // nothing fits: the smallest panels (512 rows)
            var panels = cuda.ReduceCrossDistances(fake, real, request);
            Assert.That(cuda.LastCrossPanels, Does.StartWith("row panels of 512 rows (3 x 3 panel pairs)"));
            AssertSame(resident, panels);
            // How many near-ties needed float64 is not the same (a panel pair starts with its "already inside"
            // flags and realism bounds cleared, so it settles some the resident pass skipped), what they decided is.
            Assert.That(panels.Refinement.Decisions, Is.GreaterThan(0));
            // One line per backend, however many passes follow.
            cuda.ReduceCrossDistances(fake, real, request);
            cuda.KnnRadiiSquared(fake, ks);
            Assert.That(cuda.LastKnnPanels, Does.StartWith("row panels of 512 rows (3 panels, 6 passes)"));
            Assert.That(notices, Has.Count.EqualTo(1));
            Assert.That(notices[0], Does.StartWith("cuda: sets larger than device memory are streamed in row panels (slower, same results); first: the fake x real pass in row panels of 512 rows"));
        }
        finally
        {
            cuda.Notice = null;
            cuda.DeviceMemoryBudget = null;
        }
    }

    [Test]
    public void PanelSizeFollowsTheBudget()
    {
        var cuda = Cuda();
        cuda.DeviceMemoryBudget = 8L << 30;
        // 2 x 50k x 2048 x 8 bytes (original + prepared fp32) = 1.6 GB: fits 8 GiB.
        Assert.That(cuda.CrossPanelRows(50_000, 50_000, 2048, 3, true), Is.Zero);
        // 1M x 4096 twice is 65 GB: panels, a multiple of 512 rows, two of which fit the budget.
        int rows = cuda.CrossPanelRows(1_000_000, 1_000_000, 4096, 3, true);
        Assert.That(rows % 512, Is.Zero);
        Assert.That(rows, Is.GreaterThan(50_000).And.LessThan(131_072));
        cuda.DeviceMemoryBudget = null;
    }

    [TestCase(1300, new[] { 1, 3, 7 })]  // panels 512, 512, 276: 3 own passes + 3 pair passes
    [TestCase(1026, new[] { 3, 5 })]     // a last panel of 2 rows (fewer than k + 1): its own list on the host
    public void KnnRadiiInRowPanelsEqualTheResidentPass(int rows, int[] ks)
    {
        var cuda = Cuda();
        var x = Random(rows, 24, 3, offset: 7f);
        var resident = cuda.KnnRadiiSquared(x, ks);
        Assert.That(cuda.LastKnnPanels, Is.Null);
        try
        {
            cuda.DeviceMemoryBudget = 1;
            var panels = cuda.KnnRadiiSquared(x, ks);
            Assert.That(cuda.LastKnnPanels, Does.StartWith("row panels of 512 rows (3 panels, 6 passes)"));
            for (int q = 0; q < ks.Length; q++)
                Assert.That(panels[q], Is.EqualTo(resident[q]), $"k = {ks[q]}");
        }
        finally
        {
            cuda.DeviceMemoryBudget = null;
        }
        // And both are the float64 sort's values.
        for (int i = 0; i < rows; i += 97)
        {
            var d = Enumerable.Range(0, rows).Select(j => KnnReference.Pairwise(x.RowSlice(i, 1), x)[0, j]).Order().ToArray();
            for (int q = 0; q < ks.Length; q++) Assert.That(resident[q][i], Is.EqualTo(d[ks[q]]), $"row {i}, k = {ks[q]}");
        }
    }

    [Test]
    public void StatisticsOfASetThatDoesNotFitStreamFloat64Blocks()
    {
        var cuda = Cuda();
        var x = Random(2100, 40, 4, offset: 30f);
        var resident = cuda.ComputeStatistics(x, CovarianceDivisor.NMinusOne);
        GaussianStatistics streamed;
        var notices = new List<string>();
        try
        {
            cuda.Notice = notices.Add;
            cuda.DeviceMemoryBudget = 1;
            streamed = cuda.ComputeStatistics(x, CovarianceDivisor.NMinusOne);
        }
        finally
        {
            cuda.Notice = null;
            cuda.DeviceMemoryBudget = null;
        }
        Assert.That(notices, Has.Count.EqualTo(1));
        Assert.That(notices[0], Does.EndWith("first: statistics of set4 [2100, 40] from float64 row blocks"));
        using var cpu = new CpuBackend();
        var expected = cpu.ComputeStatistics(x, CovarianceDivisor.NMinusOne);
        for (int i = 0; i < expected.Mean.Length; i++)
        {
            Assert.That(streamed.Mean[i], Is.EqualTo(expected.Mean[i]).Within(1e-12 * 30));
            Assert.That(resident.Mean[i], Is.EqualTo(expected.Mean[i]).Within(1e-12 * 30));
        }
        for (int i = 0; i < expected.Covariance.Length; i++)
            Assert.That(streamed.Covariance[i], Is.EqualTo(expected.Covariance[i]).Within(1e-12), $"covariance [{i / 40}, {i % 40}]");
    }

    /// <summary>
    /// The k-NN metrics end to end with a natively stored fake set and row panels: equal to the float64
    /// brute force, and to the plain run.
    /// </summary>
    [Test]
    public void KnnMetricsWithNativeStorageAndPanelsEqualFloat64()
    {
        var cuda = Cuda();
        var (real, fake) = KnnTestSets.Continuous();
        var plain = KnnMetrics.Compute(real, fake, [3, 5], cuda, realism: true);
        using var nativeFake = FeatureMatrixStorageTests.NativeCopy(fake);
        using var limits = new FeatureMatrixStorageTests.StorageLimits(0, spanLimit: 7 * fake.Dim);
        try
        {
            cuda.DeviceMemoryBudget = 1;
            var paneled = KnnMetricsExactTests.AssertExact(real, nativeFake, [3, 5], cuda, new KnnReference(real, fake, relativeTolerance: 0));
            // 1500 rows each: 3 x 3 panel pairs.
            Assert.That(cuda.LastCrossPanels, Does.StartWith("row panels of 512 rows (3 x 3 panel pairs)"));
            for (int q = 0; q < 2; q++)
            {
                Assert.That(paneled.PerK[q].Precision, Is.EqualTo(plain.PerK[q].Precision));
                Assert.That(paneled.PerK[q].Recall, Is.EqualTo(plain.PerK[q].Recall));
                Assert.That(paneled.PerK[q].Density, Is.EqualTo(plain.PerK[q].Density));
                Assert.That(paneled.PerK[q].Coverage, Is.EqualTo(plain.PerK[q].Coverage));
            }
            Assert.That(paneled.Realism!.Scores, Is.EqualTo(plain.Realism!.Scores));
        }
        finally
        {
            cuda.DeviceMemoryBudget = null;
        }
    }
}

/// <summary>The multiset difference the k-NN row panels merge their lists with (no device needed).</summary>
public class KnnPanelMergeTests
{
    [Test]
    public void MultisetDifferenceCancelsOneEqualValueEach()
    {
        Assert.That(CudaBackend.MultisetDifference([0, 5, 5, 5, 9], [0, 5, 7]), Is.EqualTo(new[] { 5.0, 5, 9 }));
        Assert.That(CudaBackend.MultisetDifference([0, 3, 5], [0, 5, double.PositiveInfinity]), Is.EqualTo(new[] { 3.0 }));
        Assert.That(CudaBackend.MultisetDifference([0, 1], [0, 1]), Is.Empty);
        Assert.That(CudaBackend.MultisetDifference([0, 2, 2], [0, 1, 4]), Is.EqualTo(new[] { 2.0, 2 }));
    }
}
