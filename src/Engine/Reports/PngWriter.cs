using System.Runtime.InteropServices;
using GenMetrics.Imaging;
using SkiaSharp;

namespace GenMetrics.Reports;

/// <summary>
/// Lossless PNG output of <see cref="RgbImage"/> through SkiaSharp: 8-bit RGB (colour type 2, no alpha
/// channel), as StyleGAN's scripts and PIL write generated images. The pixels are handed to Skia as opaque,
/// which makes its encoder leave the alpha channel out.
/// </summary>
public static class PngWriter
{
    public static byte[] Encode(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        // Row by row through one small buffer: a large grid is not held twice more in managed memory.
        var row = new byte[4 * image.Width];
        var rgb = image.Pixels;
        nint destination = bitmap.GetPixels();
        for (int y = 0; y < image.Height; y++)
        {
            long p = 3L * y * image.Width;
            for (int q = 0; q < row.Length; q += 4, p += 3)
            {
                row[q] = rgb[p];
                row[q + 1] = rgb[p + 1];
                row[q + 2] = rgb[p + 2];
                row[q + 3] = 255;
            }
            Marshal.Copy(row, 0, destination + (nint)((long)y * bitmap.RowBytes), row.Length);
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image.Width}x{image.Height} PNG");
        return data.ToArray();
    }

    /// <summary>Encodes and writes atomically; a failure to write is an <see cref="InputException"/> naming <paramref name="path"/>.</summary>
    public static void Write(string path, RgbImage image) => AtomicFile.WriteAllBytes(path, Encode(image));
}
