using GenMetrics.Cuda;
using GenMetrics.Features;
using GenMetrics.Tests.Metrics;

namespace GenMetrics.Tests.Cuda;

/// <summary>
/// The reduction kernels' paths (issue 15 item 5) against the independent float64 brute force (KnnReference):
/// warp-wide identical-row comparison with many bit-identical rows, float4 and scalar loads (dims and tile
/// widths that are and are not multiples of 4), the register k-smallest lists at their 32-entry limit with
/// exact ties, and enough tiles that the distance buffers alternate. Run on the CUDA emulator by
/// tests/cuda-emulator/run.sh; ignored with the reason where no CUDA device is usable.
/// </summary>
[Category("Gpu")]
[TestFixture(CudaPrecision.Fp32)]
[TestFixture(CudaPrecision.Tf32)]
[TestFixture(CudaPrecision.Fp16)]
public class CudaReductionKernelsGpuTests(CudaPrecision precision) : CudaDeviceTests(precision)
{
    private static T WithTile<T>(CudaBackend cuda, int tile, Func<T> body)
    {
        int before = cuda.TileSize;
        try
        {
            cuda.TileSize = tile;
            return body();
        }
        finally
        {
            cuda.TileSize = before;
        }
    }

    /// <summary>
    /// <paramref name="rows"/> rows drawn from <paramref name="distinct"/> distinct rows (offset 20, so that the
    /// Gram form of a duplicate is a small positive residue, not 0): most pairs of rows are bit-identical.
    /// </summary>
    private static FeatureMatrix Copies(int rows, int dim, int distinct, int seed, string name)
    {
        var pool = KnnReference.Gaussian(distinct, dim, seed, offset: 20f, name: "pool");
        var rng = new Random(seed + 1);
        var data = new float[rows * dim];
        for (int i = 0; i < rows; i++) pool.Row(rng.Next(distinct)).CopyTo(data.AsSpan(i * dim, dim));
        return new FeatureMatrix(data, rows, dim, name);
    }

    /// <summary>
    /// 701 real and 517 fake rows, each a copy of one of 12 (real) or 9 (shared with real, plus 3 own) rows:
    /// thousands of identical pairs, decided by the identical-row classes, or without them (the path of a hash
    /// collision) by the warp-wide comparison: dim 37 rows are not 16-byte aligned (scalar comparison), dim 64
    /// rows are (float4). Tiles of 256: 3 x 3 cross tiles, the last 189 (real) and
    /// 5 (fake) wide, so the float4 tile loads and their scalar fallback both run, and k-NN runs off-diagonal
    /// tiles (column kernels) as well as diagonal ones.
    /// </summary>
    [TestCase(37, true)]
    [TestCase(64, true)]
    [TestCase(37, false)]
    [TestCase(64, false)]
    public void ManyIdenticalRowsEqualFloat64(int dim, bool rowClasses)
    {
        var cuda = Cuda();
        cuda.UseRowClasses = rowClasses;
        try
        {
            AssertIdenticalRowsExact(cuda, dim);
        }
        finally
        {
            cuda.UseRowClasses = true;
        }
    }

    private void AssertIdenticalRowsExact(CudaBackend cuda, int dim)
    {
        var real = Copies(701, dim, 12, seed: 201, name: "copies-real");
        var pool = Copies(517, dim, 12, seed: 201, name: "copies-fake-shared");
        var own = Copies(517, dim, 3, seed: 203, name: "copies-fake-own");
        var fakeData = new float[517 * dim];
        for (int i = 0; i < 517; i++) (i % 4 == 0 ? own : pool).Row(i).CopyTo(fakeData.AsSpan(i * dim, dim));
        var fake = new FeatureMatrix(fakeData, 517, dim, "copies-fake");
        var result = WithTile(cuda, 256, () => KnnMetricsExactTests.AssertExact(real, fake, [1, 3, 8], cuda));
        TestContext.Out.WriteLine($"{Precision}, dim {dim}: {result.Refinement.Decisions} decisions refined");

        // The exact decisions above would hide a missed duplicate (its float64 refinement is 0 anyway); the
        // nearest distances show it: a row with a bit-identical partner is exactly 0 from it, and the nearest
        // index is the lowest identical one (ties across tiles keep the lowest index).
        var request = new GenMetrics.Compute.CrossRequest
        {
            RealRadiiSquared = [new double[real.Rows]],
            FakeRadiiSquared = [new double[fake.Rows]],
        };
        var cross = WithTile(cuda, 256, () => cuda.ReduceCrossDistances(fake, real, request));
        int identicalFakes = 0;
        for (int g = 0; g < fake.Rows; g++)
        {
            int first = Enumerable.Range(0, real.Rows).FirstOrDefault(j => fake.Row(g).SequenceEqual(real.Row(j)), -1);
            if (first < 0) continue;
            identicalFakes++;
            Assert.That(cross.FakeNearestRealDistanceSquared[g], Is.Zero, $"fake {g} has an identical real row {first}");
            Assert.That(cross.FakeNearestRealIndex[g], Is.EqualTo(first), $"fake {g}: lowest identical real row");
        }
        for (int j = 0; j < real.Rows; j++)
            if (Enumerable.Range(0, fake.Rows).Any(g => fake.Row(g).SequenceEqual(real.Row(j))))
                Assert.That(cross.RealNearestFakeDistanceSquared[j], Is.Zero, $"real {j} has an identical fake row");
        Assert.That(identicalFakes, Is.GreaterThan(300));
    }

    /// <summary>
    /// k = 15 keeps 32 candidates per row (15 + 1 + 16 extra): the register lists are full, every lane of the
    /// warp-spread row list holds a key. Integer data in 5 dims (values 0..3): distances tie everywhere, also
    /// at the 32nd key. 1101 rows in tiles of 256: 5 tile rows, 15 tiles, the last 77 wide (odd: scalar loads),
    /// columns merged from slices with the seeded thresholds. Radii equal the float64 sort exactly.
    /// </summary>
    [Test]
    public void KnnRadiiWithFullListsAndTiesEqualFloat64()
    {
        var cuda = Cuda();
        var rng = new Random(211);
        var data = new float[1101 * 5];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(4);
        var x = new FeatureMatrix(data, 1101, 5, "ties");
        int[] ks = [1, 7, 15];
        var radii = WithTile(cuda, 256, () => cuda.KnnRadiiSquared(x, ks));
        var pairwise = KnnReference.Pairwise(x, x);
        for (int q = 0; q < ks.Length; q++)
            Assert.That(radii[q], Is.EqualTo(KnnReference.Radii(pairwise, ks[q])), $"k = {ks[q]} ({Precision})");
    }

    /// <summary>The same limit on continuous data with a large offset (no ties; cancellation in the Gram form), dim 33.</summary>
    [Test]
    public void KnnRadiiWithFullListsOnContinuousDataEqualFloat64()
    {
        var cuda = Cuda();
        var x = KnnReference.Gaussian(1101, 33, seed: 212, offset: 30f, name: "continuous");
        int[] ks = [2, 15];
        var radii = WithTile(cuda, 256, () => cuda.KnnRadiiSquared(x, ks));
        var pairwise = KnnReference.Pairwise(x, x);
        for (int q = 0; q < ks.Length; q++)
            Assert.That(radii[q], Is.EqualTo(KnnReference.Radii(pairwise, ks[q])), $"k = {ks[q]} ({Precision})");
    }
}
