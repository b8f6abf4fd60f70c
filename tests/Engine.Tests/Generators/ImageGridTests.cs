using GenMetrics.Generators;

namespace GenMetrics.Tests.Generators;

public class ImageGridTests
{
    [TestCase(1, 1, 1)]
    [TestCase(2, 2, 1)]
    [TestCase(3, 2, 2)]
    [TestCase(4, 2, 2)]
    [TestCase(5, 3, 2)]
    [TestCase(8, 3, 3)]
    [TestCase(9, 3, 3)]
    [TestCase(10, 4, 3)]
    [TestCase(12, 4, 3)]
    [TestCase(16, 4, 4)]
    [TestCase(17, 5, 4)]
    [TestCase(10000, 100, 100)]
    public void ShapeIsTheSquarestWithoutAnEmptyRow(int count, int columns, int rows)
    {
        Assert.That(ImageGrid.Shape(count), Is.EqualTo((columns, rows)));
        Assert.That(columns * rows, Is.GreaterThanOrEqualTo(count));
        Assert.That(columns * (rows - 1), Is.LessThan(count));
    }

    [Test]
    public void TileRowColumnHoldsImageRowTimesColumnsPlusColumn()
    {
        const int count = 5, h = 2, w = 3;
        // Image i, channel c, pixel (y, x) holds a value that names all four.
        var images = new byte[count * 3 * h * w];
        for (int i = 0; i < count; i++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        images[((i * 3 + c) * h + y) * w + x] = (byte)(1 + i * 30 + c * 10 + y * 3 + x);
        var (grid, columns, rows) = ImageGrid.Tile(images, count, h, w);
        Assert.That((columns, rows), Is.EqualTo((3, 2)));
        int gridH = rows * h, gridW = columns * w;
        Assert.That(grid, Has.Length.EqualTo(3 * gridH * gridW));
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < columns; col++)
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                        {
                            int i = r * columns + col;
                            int expected = i < count ? 1 + i * 30 + c * 10 + y * 3 + x : 0;
                            Assert.That(grid[(c * gridH + r * h + y) * gridW + col * w + x], Is.EqualTo(expected), $"tile ({r}, {col}) c{c} ({y}, {x})");
                        }
    }
}
