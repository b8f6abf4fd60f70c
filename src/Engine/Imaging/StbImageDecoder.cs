using StbImageSharp;

namespace GenMetrics.Imaging;

/// <summary>
/// The default <see cref="IImageDecoder"/>, chosen by the file's first bytes: PNG through StbImageSharp
/// (a pure C# port of stb_image) after libpng's integrity checks (<see cref="PngIntegrity"/>: chunk
/// CRCs, the zlib stream), JPEG and WebP through Skia's libjpeg-turbo and libwebp (PIL's libraries; the
/// pixels equal PIL's), TIFF through <see cref="TiffDecoder"/>, binary PGM/PPM through <see cref="PnmDecoder"/>, and BMP, GIF
/// (first frame) and TGA through stb. The extensions are pytorch-fid's (bmp jpg jpeg pgm png ppm tif tiff webp)
/// plus gif and tga. Differences from PIL are listed in docs/images.md: 16-bit gray PNGs become the
/// high byte here whereas PIL clamps the 16-bit value to 255.
/// </summary>
public sealed class StbImageDecoder : IImageDecoder
{
    public static readonly StbImageDecoder Instance = new();

    /// <summary>Changes whenever what is decoded (or refused) changes, so feature caches of older runs are not reused.</summary>
    public const string Version = "2: png-integrity, webp, tiff, pnm";

    public IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".webp", ".tif", ".tiff", ".pgm", ".ppm"];

    /// <summary>
    /// <see cref="Decode"/> into this thread's reusable pixel array: the returned image's pixels are valid only
    /// until the next DecodeTransient on the same thread. For a pipeline that resizes each image at once and
    /// drops it (no image-sized allocation per file).
    /// </summary>
    internal RgbImage DecodeTransient(byte[] encoded, string name) => PixelBuffers.Transient((encoded, name), s => Decode(s.encoded, s.name));

    public RgbImage Decode(ReadOnlySpan<byte> encoded, string name)
    {
        if (encoded.Length == 0) throw InputException.For(name, "empty file");
        // stb_image reads past the end of a truncated JPEG as zeros and returns a grey-filled image
        // without complaint; PIL refuses such files ("image file is truncated"), so do we.
        if (IsJpeg(encoded) && !JpegHasEndOfImageAfterLastScan(encoded))
            throw InputException.For(name, "truncated JPEG (no end-of-image marker after the last scan)");
        if (IsJpeg(encoded)) return LibjpegDecoder.Decode(encoded, name);
        if (IsWebp(encoded)) return SkiaCodecDecoder.Decode(encoded, name, "WebP");
        if (TiffDecoder.IsTiff(encoded)) return TiffDecoder.Decode(encoded, name);
        if (PnmDecoder.IsPnm(encoded)) return PnmDecoder.Decode(encoded, name);
        if (PngIntegrity.IsPng(encoded))
        {
            // Checked (CRCs, zlib stream) first; the common 8-bit types then decode from the checked data.
            var png = PngIntegrity.Check(encoded, name);
            try
            {
                if (PngRowDecoder.TryDecode(png) is { } decoded) return decoded;
            }
            finally
            {
                png.Return();
            }
        }

        ImageResult result;
        try
        {
            // StbImageSharp takes a byte[]; decoding dominates the cost of this copy.
            result = ImageResult.FromMemory(encoded.ToArray(), ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw InputException.For(name, $"cannot decode image ({Readable(e.Message)})");
        }
        if (result?.Data == null || result.Width <= 0 || result.Height <= 0)
            throw InputException.For(name, "cannot decode image (decoder returned no pixels)");
        return new RgbImage(result.Width, result.Height, result.Data);
    }

    // stb's failure reasons are short ASCII phrases, but a truncated PNG can surface uninitialised text.
    static string Readable(string? reason)
    {
        var text = new string((reason ?? "").Where(ch => ch >= ' ' && ch < 127).ToArray()).Trim();
        return text.Length > 0 ? text : "corrupt or truncated data";
    }

    static bool IsWebp(ReadOnlySpan<byte> data) =>
        data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8);

    static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    // Entropy-coded data stuffs every 0xFF as FF 00, so FF D9 cannot occur inside a scan; an EXIF
    // thumbnail's EOI comes before the main image's scans, hence "after the last SOS".
    static bool JpegHasEndOfImageAfterLastScan(ReadOnlySpan<byte> data)
    {
        int lastScan = LastIndexOfMarker(data, 0xDA);
        int lastEnd = LastIndexOfMarker(data, 0xD9);
        return lastEnd >= 0 && lastEnd > lastScan;
    }

    static int LastIndexOfMarker(ReadOnlySpan<byte> data, byte marker)
    {
        ReadOnlySpan<byte> pattern = [0xFF, marker];
        return data.LastIndexOf(pattern);
    }
}
