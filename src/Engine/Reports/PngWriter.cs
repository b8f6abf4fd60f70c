using System.Runtime.InteropServices;
using GenMetrics.Imaging;
using SkiaSharp;

namespace GenMetrics.Reports;

/// <summary>Lossless PNG output of <see cref="RgbImage"/> through SkiaSharp (8-bit RGBA, alpha all opaque).</summary>
public static class PngWriter
{
    public static byte[] Encode(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var rgba = new byte[4L * image.Width * image.Height];
        var rgb = image.Pixels;
        for (long p = 0, q = 0; p < rgb.LongLength; p += 3, q += 4)
        {
            rgba[q] = rgb[p];
            rgba[q + 1] = rgb[p + 1];
            rgba[q + 2] = rgb[p + 2];
            rgba[q + 3] = 255;
        }
        // Rows of an Rgba8888 SKBitmap are tightly packed (RowBytes == 4 * width), so one copy suffices.
        if (bitmap.RowBytes != 4 * image.Width) throw new InvalidOperationException($"unexpected row stride {bitmap.RowBytes}");
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image.Width}x{image.Height} PNG");
        return data.ToArray();
    }

    /// <summary>Encodes and writes atomically; a failure to write is an <see cref="InputException"/> naming <paramref name="path"/>.</summary>
    public static void Write(string path, RgbImage image) => AtomicFile.WriteAllBytes(path, Encode(image));
}
