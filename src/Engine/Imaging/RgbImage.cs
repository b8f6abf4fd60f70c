namespace GenMetrics.Imaging;

/// <summary>An 8-bit RGB image, row-major HWC: pixel (y, x) channel c is Pixels[(y*Width + x)*3 + c].</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"invalid size {width}x{height}");
        if (pixels.LongLength != 3L * width * height)
            throw new ArgumentException($"{width}x{height} RGB needs {3L * width * height} bytes, got {pixels.LongLength}");
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    /// <summary>From planar CHW bytes (a generator's quantised [3, H, W] output).</summary>
    public static RgbImage FromPlanar(ReadOnlySpan<byte> chw, int width, int height)
    {
        int plane = width * height;
        if (chw.Length != 3L * plane) throw new ArgumentException($"planar image holds {chw.Length} bytes, expected 3x{height}x{width}");
        var hwc = new byte[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            hwc[3 * p] = chw[p];
            hwc[3 * p + 1] = chw[plane + p];
            hwc[3 * p + 2] = chw[2 * plane + p];
        }
        return new RgbImage(width, height, hwc);
    }
}

/// <summary>
/// Turns an encoded file into RGB8 the way PIL's <c>Image.open(f).convert('RGB')</c> does: gray is
/// replicated, alpha is dropped without compositing, palettes are expanded. Implementations throw
/// <see cref="InputException"/> (naming the file) for corrupt, truncated or unsupported data.
/// </summary>
public interface IImageDecoder
{
    /// <summary>Lower-case extensions with the dot (".png") that this decoder is asked to read.</summary>
    IReadOnlyList<string> Extensions { get; }

    RgbImage Decode(ReadOnlySpan<byte> encoded, string name);
}
