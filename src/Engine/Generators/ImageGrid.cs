namespace GenMetrics.Generators;

/// <summary>
/// Tiles same-sized images row by row into one image, as StyleGAN's <c>save_image_grid</c> does. The shape
/// comes from the count alone: columns = ceil(√n), rows = ceil(n / columns), the squarest grid with no
/// empty row (8 images: 3×3 with one empty cell, 6: 3 columns × 2 rows, 12: 4×3). Empty cells are black.
/// </summary>
public static class ImageGrid
{
    public static (int Columns, int Rows) Shape(int count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "a grid needs at least one image");
        int columns = (int)Math.Ceiling(Math.Sqrt(count));
        // Guard against sqrt rounding for perfect squares.
        while (columns > 1 && (columns - 1) * (columns - 1) >= count) columns--;
        int rows = (count + columns - 1) / columns;
        return (columns, rows);
    }

    /// <param name="images">Row-major [count, 3, h, w] pixels (uint8, CHW).</param>
    /// <param name="count">Number of images.</param>
    /// <param name="h">Image height.</param>
    /// <param name="w">Image width.</param>
    /// <returns>The grid as one [3, rows·h, columns·w] image, and its shape; image i sits at row i / columns, column i % columns.</returns>
    public static (byte[] Pixels, int Columns, int Rows) Tile(ReadOnlySpan<byte> images, int count, int h, int w)
    {
        int plane = h * w;
        if (images.Length != (long)count * 3 * plane) throw new ArgumentException($"images hold {images.Length} bytes, expected {count}x3x{h}x{w}");
        var (columns, rows) = Shape(count);
        int gridW = columns * w, gridH = rows * h;
        var grid = new byte[3 * gridH * gridW];
        for (int i = 0; i < count; i++)
        {
            int top = i / columns * h, left = i % columns * w;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < h; y++)
                    images.Slice(((i * 3 + c) * h + y) * w, w).CopyTo(grid.AsSpan((c * gridH + top + y) * gridW + left, w));
        }
        return (grid, columns, rows);
    }
}
