using GenMetrics.Imaging;

namespace GenMetrics.Reports;

/// <summary>
/// Tiles equally sized images into one image, row by row: image i goes to row i / columns, column
/// i % columns. Tiles left over in the last row are background.
/// </summary>
public static class ImageGrid
{
    /// <summary>
    /// The default shape for <paramref name="count"/> images: columns = ceil(sqrt(count)), rows =
    /// ceil(count / columns). This is square when count is a perfect square (25 -> 5x5) and otherwise at
    /// most one column wider than tall (10 -> 4x3, 60 -> 8x8 with 4 empty tiles), so the grid stays close
    /// to square for any count.
    /// </summary>
    public static (int Columns, int Rows) Shape(int count, int? columns = null)
    {
        if (count < 1) throw InputException.For(null, "no images to put in a grid");
        int c = columns ?? (int)Math.Ceiling(Math.Sqrt(count));
        // Math.Sqrt of a perfect square is exact in double for every int, so Ceiling never overshoots.
        if (c < 1) throw InputException.For(null, $"grid columns must be at least 1, got {c}");
        c = Math.Min(c, count);
        return (c, (count + c - 1) / c);
    }

    /// <summary>
    /// Composes <paramref name="images"/> (all of one size) into a grid. <paramref name="padding"/> pixels of
    /// <paramref name="background"/> (black by default) separate the tiles and surround the grid:
    /// width = columns * w + (columns + 1) * padding, and tile (r, c) starts at
    /// (padding + c * (w + padding), padding + r * (h + padding)).
    /// </summary>
    public static RgbImage Compose(IReadOnlyList<RgbImage> images, int? columns = null, int padding = 0,
        (byte R, byte G, byte B)? background = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var (cols, rows) = Shape(images.Count, columns);
        if (padding < 0) throw InputException.For(null, $"grid padding must not be negative, got {padding}");
        int tileWidth = images[0].Width, tileHeight = images[0].Height;
        for (int i = 1; i < images.Count; i++)
            if (images[i].Width != tileWidth || images[i].Height != tileHeight)
                throw InputException.For(null,
                    $"grid images must share one size: image {i} is {images[i].Width}x{images[i].Height}, image 0 is {tileWidth}x{tileHeight}");

        long width = (long)cols * tileWidth + (long)(cols + 1) * padding;
        long height = (long)rows * tileHeight + (long)(rows + 1) * padding;
        if (3 * width * height > Array.MaxLength)
            throw InputException.For(null, $"a {width}x{height} grid is too large for one image; use fewer or smaller images");

        var pixels = new byte[3 * width * height];
        var (r, g, b) = background ?? ((byte)0, (byte)0, (byte)0);
        if (r != 0 || g != 0 || b != 0)
            for (long p = 0; p < pixels.LongLength; p += 3)
            {
                pixels[p] = r;
                pixels[p + 1] = g;
                pixels[p + 2] = b;
            }

        int rowBytes = 3 * tileWidth;
        for (int i = 0; i < images.Count; i++)
        {
            long left = padding + (long)(i % cols) * (tileWidth + padding);
            long top = padding + (long)(i / cols) * (tileHeight + padding);
            var source = images[i].Pixels;
            for (int y = 0; y < tileHeight; y++)
                Array.Copy(source, (long)y * rowBytes, pixels, 3 * ((top + y) * width + left), rowBytes);
        }
        return new RgbImage((int)width, (int)height, pixels);
    }
}
