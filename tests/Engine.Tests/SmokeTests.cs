using GenMetrics.Compute;
using GenMetrics.Features;

namespace GenMetrics.Tests;

public class SmokeTests
{
    [Test]
    public void DistanceTilesGiveExactZeroForDuplicates()
    {
        var m = new FeatureMatrix([1.5f, -2.25f, 3f, 1.5f, -2.25f, 3f], 2, 3);
        var tiles = new SquaredDistanceTiles(m, m, [0.1f, 0.2f, 0.3f]);
        var tile = new float[4];
        tiles.CreateWorker().Compute(0, 2, 0, 2, tile);
        Assert.That(tile, Is.All.EqualTo(0f));
    }
}
