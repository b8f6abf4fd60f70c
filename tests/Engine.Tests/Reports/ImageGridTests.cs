using GenMetrics.Imaging;
using GenMetrics.Reports;

namespace GenMetrics.Tests.Reports;

public class ImageGridTests
{
    /// <summary>A tile whose every pixel encodes its index and position, so a misplaced byte is visible.</summary>
    internal static RgbImage Tile(int index, int width, int height)
    {
        var pixels = new byte[3 * width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int p = 3 * (y * width + x);
                pixels[p] = (byte)(10 + index);
                pixels[p + 1] = (byte)x;
                pixels[p + 2] = (byte)y;
            }
        return new RgbImage(width, height, pixels);
    }

    [TestCase(1, 1, 1)]
    [TestCase(2, 2, 1)]
    [TestCase(4, 2, 2)]
    [TestCase(5, 3, 2)]
    [TestCase(10, 4, 3)]
    [TestCase(25, 5, 5)]
    [TestCase(26, 6, 5)]
    [TestCase(60, 8, 8)]
    public void DefaultShapeIsCeilSqrtColumns(int count, int columns, int rows)
    {
        Assert.That(ImageGrid.Shape(count), Is.EqualTo((columns, rows)));
    }

    [Test]
    public void GivenColumnsAreKeptButNeverExceedTheCount()
    {
        Assert.That(ImageGrid.Shape(7, 2), Is.EqualTo((2, 4)));
        Assert.That(ImageGrid.Shape(3, 10), Is.EqualTo((3, 1)));
    }

    [TestCase(7, null, 0)]
    [TestCase(7, 3, 2)]
    [TestCase(6, 6, 1)]
    public void EveryTileLandsAtRowTimesColumnsPlusColumn(int count, int? columns, int padding)
    {
        const int W = 5, H = 3;
        var images = Enumerable.Range(0, count).Select(i => Tile(i, W, H)).ToArray();
        var background = ((byte)200, (byte)201, (byte)202);
        var grid = ImageGrid.Compose(images, columns, padding, background);
        var (cols, rows) = ImageGrid.Shape(count, columns);

        Assert.That(grid.Width, Is.EqualTo(cols * W + (cols + 1) * padding));
        Assert.That(grid.Height, Is.EqualTo(rows * H + (rows + 1) * padding));

        // Every pixel of the grid, checked against where it must come from.
        for (int y = 0; y < grid.Height; y++)
            for (int x = 0; x < grid.Width; x++)
            {
                int p = 3 * (y * grid.Width + x);
                var actual = (grid.Pixels[p], grid.Pixels[p + 1], grid.Pixels[p + 2]);
                int c = (x - padding) / (W + padding), r = (y - padding) / (H + padding);
                int tx = x - padding - c * (W + padding), ty = y - padding - r * (H + padding);
                bool inTile = x >= padding && y >= padding && tx < W && ty < H && c < cols && r < rows;
                int index = r * cols + c;
                var expected = inTile && index < count ? ((byte)(10 + index), (byte)tx, (byte)ty) : background;
                Assert.That(actual, Is.EqualTo(expected), $"pixel ({x}, {y})");
            }
    }

    [Test]
    public void DefaultBackgroundIsBlack()
    {
        var grid = ImageGrid.Compose([Tile(0, 2, 2), Tile(1, 2, 2), Tile(2, 2, 2)]);
        Assert.That(grid.Width, Is.EqualTo(4));
        Assert.That(grid.Height, Is.EqualTo(4));
        int p = 3 * (3 * 4 + 3); // bottom right: the fourth, empty tile
        Assert.That(grid.Pixels[p..(p + 3)], Is.EqualTo(new byte[] { 0, 0, 0 }));
    }

    [Test]
    public void BadInputIsAnInputException()
    {
        Assert.Throws<InputException>(() => ImageGrid.Compose([]));
        Assert.Throws<InputException>(() => ImageGrid.Compose([Tile(0, 2, 2), Tile(1, 3, 2)]));
        Assert.Throws<InputException>(() => ImageGrid.Compose([Tile(0, 2, 2)], columns: 0));
        Assert.Throws<InputException>(() => ImageGrid.Compose([Tile(0, 2, 2)], padding: -1));
    }
}
