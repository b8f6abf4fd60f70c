using SkiaSharp;

namespace GenMetrics.Imaging;

/// <summary>
/// JPEG through SkiaSharp's libjpeg-turbo: the library PIL uses, with the same defaults (integer IDCT,
/// fancy upsampling), so the pixels equal PIL's `convert('RGB')` exactly — stb_image's own decoder
/// upsamples chroma differently and was up to 49 levels off on sharp colour edges (docs/images.md).
/// The system's libjpeg-turbo (<see cref="TurboJpeg"/>, with its SIMD code) decodes first when it is
/// installed, to the same pixels about 3x faster; Skia takes what it leaves (and everything without it).
/// </summary>
internal static class LibjpegDecoder
{
    public static RgbImage Decode(ReadOnlySpan<byte> encoded, string name) =>
        TurboJpeg.TryDecode(encoded) ?? SkiaCodecDecoder.Decode(encoded, name, "JPEG");

    /// <summary>Skia's decode alone, for tests that compare the two paths.</summary>
    internal static RgbImage DecodeWithSkia(ReadOnlySpan<byte> encoded, string name) => SkiaCodecDecoder.Decode(encoded, name, "JPEG");
}

/// <summary>
/// Decodes through one of Skia's codecs (libjpeg-turbo for JPEG, libwebp for WebP: the libraries PIL
/// links) to unpremultiplied RGBA, then drops alpha without compositing, as PIL's convert('RGB') does.
/// Incomplete input is an error, as in PIL, never rows filled with grey.
/// </summary>
internal static class SkiaCodecDecoder
{
    public static RgbImage Decode(ReadOnlySpan<byte> encoded, string name, string format)
    {
        using var data = SKData.CreateCopy(encoded);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var created)
            ?? throw InputException.For(name, $"cannot decode {format} ({created})");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if (info.Width <= 0 || info.Height <= 0) throw InputException.For(name, $"cannot decode {format} (no pixels)");
        var rgba = new byte[info.BytesSize];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = rgba) result = codec.GetPixels(info, (IntPtr)p);
        }
        if (result != SKCodecResult.Success)
            throw InputException.For(name, result == SKCodecResult.IncompleteInput ? $"truncated {format}" : $"cannot decode {format} ({result})");
        int n = info.Width * info.Height;
        var rgb = new byte[n * 3];
        for (int i = 0; i < n; i++)
        {
            rgb[3 * i] = rgba[4 * i];
            rgb[3 * i + 1] = rgba[4 * i + 1];
            rgb[3 * i + 2] = rgba[4 * i + 2];
        }
        return new RgbImage(info.Width, info.Height, rgb);
    }
}
