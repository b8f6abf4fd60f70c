using GenMetrics.Compute;
using GenMetrics.Compute.Gemm;
using GenMetrics.Features;

namespace GenMetrics.Tests.Compute;

public class DistanceTileTests
{
    private static IEnumerable<SgemmIsa> SupportedIsas() =>
        Enum.GetValues<SgemmIsa>().Where(SgemmKernels.IsSupported);

    private static double ReferenceSquaredDistance(FeatureMatrix x, int i, FeatureMatrix y, int j)
    {
        double sum = 0;
        for (int p = 0; p < x.Dim; p++)
        {
            double d = (double)x[i, p] - y[j, p];
            sum += d * d;
        }
        return sum;
    }

    [TestCase(1, 1, 1, false)]
    [TestCase(13, 50, 3, true)]
    [TestCase(70, 45, 301, false)]
    [TestCase(70, 45, 301, true)]
    public void TilesMatchFloat64BruteForce(int rows, int cols, int dim, bool shifted)
    {
        var rng = new Random(rows + 7 * cols + dim);
        // An offset far from 0 makes the shift matter: without it ‖a‖² + ‖b‖² − 2a·b cancels badly.
        var x = new FeatureMatrix(SgemmTests.RandomMatrix(rng, rows, dim, offset: 3f), rows, dim);
        var y = new FeatureMatrix(SgemmTests.RandomMatrix(rng, cols, dim, offset: 3f), cols, dim);
        float[]? shift = shifted ? Enumerable.Repeat(3f, dim).ToArray() : null;
        var tiles = new SquaredDistanceTiles(x, y, shift);
        // Float32 error of the expanded form scales with the norms, not with the distance.
        double normScale = shifted ? 2.0 * dim : 2.0 * dim * 16;
        foreach (var isa in SupportedIsas())
        {
            var worker = tiles.CreateWorker(isa);
            // Odd tile origins and sizes, the last ones ragged.
            for (int r0 = 0; r0 < rows; r0 += 29)
                for (int c0 = 0; c0 < cols; c0 += 37)
                {
                    int rc = Math.Min(29, rows - r0), cc = Math.Min(37, cols - c0);
                    var tile = new float[rc * cc];
                    Array.Fill(tile, float.NaN);
                    worker.Compute(r0, rc, c0, cc, tile);
                    for (int i = 0; i < rc; i++)
                        for (int j = 0; j < cc; j++)
                        {
                            double expected = ReferenceSquaredDistance(x, r0 + i, y, c0 + j);
                            float got = tile[i * cc + j];
                            Assert.That(got, Is.EqualTo(expected).Within(2e-6 * normScale + 1e-6 * expected),
                                $"{isa} d2[{r0 + i},{c0 + j}]");
                        }
                }
        }
    }

    [TestCase(1, false)]
    [TestCase(37, false)]
    [TestCase(37, true)]
    [TestCase(513, true)]
    [TestCase(1000, false)]
    public void DuplicateRowsGiveExactlyZero(int dim, bool shifted)
    {
        var rng = new Random(dim);
        const int rows = 45;
        var data = SgemmTests.RandomMatrix(rng, rows, dim, offset: 0.5f);
        // Duplicates at the first, a middle, an MR-edge and the last position, in rows and across matrices.
        int[] copies = [0, 8, 23, 44];
        foreach (int i in copies[1..]) Array.Copy(data, 0, data, i * dim, dim);
        var x = new FeatureMatrix(data, rows, dim);
        var yData = SgemmTests.RandomMatrix(rng, 70, dim);
        Array.Copy(data, 0, yData, 33 * dim, dim);
        Array.Copy(data, 5 * dim, yData, 69 * dim, dim);
        var y = new FeatureMatrix(yData, 70, dim);
        float[]? shift = shifted ? SgemmTests.RandomMatrix(rng, 1, dim, offset: 0.5f) : null;

        foreach (var isa in SupportedIsas())
        {
            var self = new SquaredDistanceTiles(x, x, shift).CreateWorker(isa);
            var selfTile = new float[rows * rows];
            self.Compute(0, rows, 0, rows, selfTile);
            for (int i = 0; i < rows; i++)
                Assert.That(selfTile[i * rows + i], Is.EqualTo(0f), $"{isa} dim {dim}: d2(row {i}, itself)");
            foreach (int i in copies)
                foreach (int j in copies)
                    Assert.That(selfTile[i * rows + j], Is.EqualTo(0f), $"{isa} dim {dim}: d2(copy {i}, copy {j})");

            var cross = new SquaredDistanceTiles(x, y, shift).CreateWorker(isa);
            var crossTile = new float[rows * 70];
            cross.Compute(0, rows, 0, 70, crossTile);
            foreach (int i in copies) Assert.That(crossTile[i * 70 + 33], Is.EqualTo(0f), $"{isa} dim {dim}: x{i} vs y33");
            Assert.That(crossTile[5 * 70 + 69], Is.EqualTo(0f), $"{isa} dim {dim}: x5 vs y69");
            // An offset tile: the same pair seen from a tile that starts mid-matrix.
            var sub = new float[3 * 5];
            cross.Compute(4, 3, 65, 5, sub);
            Assert.That(sub[1 * 5 + 4], Is.EqualTo(0f), $"{isa} dim {dim}: x5 vs y69 in an offset tile");
        }
    }

    [Test]
    public void EveryTileCellIsWrittenAndNothingBeyond()
    {
        var rng = new Random(3);
        var x = new FeatureMatrix(SgemmTests.RandomMatrix(rng, 300, 19), 300, 19);
        var tiles = new SquaredDistanceTiles(x, x);
        var worker = tiles.CreateWorker();
        var buffer = new float[263 * 41 + 10];
        Array.Fill(buffer, float.NaN);
        worker.Compute(17, 263, 200, 41, buffer);
        for (int i = 0; i < 263 * 41; i++) Assert.That(float.IsFinite(buffer[i]) && buffer[i] >= 0f, $"cell {i} = {buffer[i]}");
        for (int i = 263 * 41; i < buffer.Length; i++) Assert.That(buffer[i], Is.NaN, $"wrote past the tile at {i}");
    }
}
