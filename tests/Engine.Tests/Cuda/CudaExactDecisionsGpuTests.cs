using GenMetrics.Cuda;
using GenMetrics.Features;
using GenMetrics.Tests.Metrics;

namespace GenMetrics.Tests.Cuda;

/// <summary>
/// The CUDA backend's exact k-NN decisions (float64 refinement on the device) in fp32, tf32 and fp16: every key
/// and the realism scores equal the independent float64 brute force on the sets of KnnTestSets. Run on the
/// CUDA emulator by tests/cuda-emulator/run.sh (no GPU on the machines these were written on); ignored with
/// the reason where no CUDA device is usable.
/// </summary>
[Category("Gpu")]
[TestFixture(CudaPrecision.Fp32)]
[TestFixture(CudaPrecision.Tf32)]
[TestFixture(CudaPrecision.Fp16)]
public class CudaExactDecisionsGpuTests(CudaPrecision precision) : CudaDeviceTests(precision)
{
    // The cross kernels take up to 8 k at once: k = 1..10 runs as two passes against one reference.
    private void AssertExactAtK1To10(FeatureMatrix real, FeatureMatrix fake)
    {
        var reference = new KnnReference(real, fake, relativeTolerance: 0);
        var first = KnnMetricsExactTests.AssertExact(real, fake, [1, 2, 3, 4, 5], Cuda(), reference);
        var second = KnnMetricsExactTests.AssertExact(real, fake, [6, 7, 8, 9, 10], Cuda(), reference);
        TestContext.Out.WriteLine($"{Precision}: {first.Refinement.Decisions + second.Refinement.Decisions} decisions refined, " +
            $"{first.Refinement.Float64Distances + second.Refinement.Float64Distances} float64 distances");
    }

    [Test]
    public void DigitsSplitByLabelEqualFloat64AtEveryK()
    {
        var (real, fake) = KnnTestSets.Digits();
        AssertExactAtK1To10(real, fake);
    }

    [Test]
    public void CoarseGridEqualsFloat64AtEveryK()
    {
        var (real, fake) = KnnTestSets.CoarseGrid();
        AssertExactAtK1To10(real, fake);
    }

    [Test]
    public void HeavyDuplicationEqualsFloat64()
    {
        var (real, fake) = KnnTestSets.Duplicates();
        KnnMetricsExactTests.AssertExact(real, fake, [1, 2, 3, 5, 8], Cuda());
    }

    [Test]
    public void ContinuousDataEqualsFloat64()
    {
        var (real, fake) = KnnTestSets.Continuous();
        var cuda = Cuda();
        int before = cuda.TileSize;
        try
        {
            // Several tiles each way, so that candidates and realism maxima cross tile borders.
            cuda.TileSize = 512;
            KnnMetricsExactTests.AssertExact(real, fake, [3, 5], cuda);
        }
        finally
        {
            cuda.TileSize = before;
        }
    }

    [TestCase(1e6f)]
    [TestCase(1e7f)]
    public void OneHugeValueEqualsFloat64(float value)
    {
        var (real, fake) = KnnTestSets.LargeValue(value);
        var cuda = Cuda();
        if (Precision == CudaPrecision.Fp16)
        {
            // Beyond float16's range: one clear input error, not a wrong number.
            var e = Assert.Throws<InputException>(() => GenMetrics.Metrics.KnnMetrics.Compute(real, fake, [3, 5], cuda));
            Assert.That(e!.Message, Does.Contain("float16"));
            return;
        }
        KnnMetricsExactTests.AssertExact(real, fake, [3, 5], cuda);
    }
}
