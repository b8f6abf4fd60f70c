using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace GenMetrics.Imaging;

/// <summary>
/// JPEG straight to RGB through the system's libjpeg-turbo (its TurboJPEG API, libturbojpeg.so.0 /
/// libturbojpeg.0.dylib / turbojpeg.dll), when one is installed. SkiaSharp's libjpeg-turbo is built
/// without its SIMD code (a profile shows the C <c>jpeg_idct_islow</c>, <c>ycc_rgb_convert</c> and
/// <c>h2v2_fancy_upsample</c>), which made JPEG decoding 3x slower than PIL's. Same library, same
/// defaults as PIL (accurate integer IDCT, fancy upsampling), and libjpeg-turbo's SIMD routines are
/// bit-exact with its C ones, so the pixels equal Skia's and PIL's (tests/…/ImageDecoderTests).
/// Anything it does not take exactly as Skia would (CMYK/YCCK, any libjpeg warning) returns null and
/// the caller decodes through Skia instead.
/// </summary>
internal static unsafe class TurboJpeg
{
    const int PixelFormatRgb = 0;          // TJPF_RGB
    const int ColorspaceCmyk = 3, ColorspaceYcck = 4;

    static readonly delegate* unmanaged<nint> InitDecompress;
    static readonly delegate* unmanaged<nint, byte*, CULong, int*, int*, int*, int*, int> DecompressHeader3;
    static readonly delegate* unmanaged<nint, byte*, CULong, byte*, int, int, int, int, int, int> Decompress2;
    static readonly delegate* unmanaged<nint, int> Destroy;
    static readonly ConcurrentBag<nint> Handles = [];

    /// <summary>The library that was loaded, or null when none is installed (or GENMETRICS_JPEG=skia).</summary>
    public static string? Library { get; }

    static TurboJpeg()
    {
        if (Environment.GetEnvironmentVariable("GENMETRICS_JPEG") is "skia") return;
        foreach (var name in new[] { "libturbojpeg.so.0", "libturbojpeg.so", "libturbojpeg.0.dylib", "turbojpeg.dll" })
        {
            if (!NativeLibrary.TryLoad(name, typeof(TurboJpeg).Assembly, null, out nint library)) continue;
            if (NativeLibrary.TryGetExport(library, "tjInitDecompress", out nint init)
                && NativeLibrary.TryGetExport(library, "tjDecompressHeader3", out nint header)
                && NativeLibrary.TryGetExport(library, "tjDecompress2", out nint decompress)
                && NativeLibrary.TryGetExport(library, "tjDestroy", out nint destroy))
            {
                Destroy = (delegate* unmanaged<nint, int>)destroy;
                InitDecompress = (delegate* unmanaged<nint>)init;
                DecompressHeader3 = (delegate* unmanaged<nint, byte*, CULong, int*, int*, int*, int*, int>)header;
                Decompress2 = (delegate* unmanaged<nint, byte*, CULong, byte*, int, int, int, int, int, int>)decompress;
                Library = name;
                return;
            }
            NativeLibrary.Free(library);
        }
    }

    public static bool IsAvailable => Library is not null;

    /// <summary>The RGB pixels, or null when this decoder leaves the file to Skia (not installed, CMYK, errors, warnings).</summary>
    public static RgbImage? TryDecode(ReadOnlySpan<byte> encoded)
    {
        if (Library is null) return null;
        // One handle per concurrent decode, reused: creating one costs more than a small image's decode.
        if (!Handles.TryTake(out nint handle))
        {
            handle = InitDecompress();
            if (handle == 0) return null;
        }
        bool clean = false;
        try
        {
            fixed (byte* source = encoded)
            {
                int width, height, subsampling, colorspace;
                var size = new CULong((nuint)encoded.Length);
                if (DecompressHeader3(handle, source, size, &width, &height, &subsampling, &colorspace) != 0) return null;
                clean = true;
                if (colorspace is ColorspaceCmyk or ColorspaceYcck || width <= 0 || height <= 0) return null;
                if (3L * width * height > Array.MaxLength) return null; // too large for one array: Skia reports it
                clean = false;
                // Every byte is written by the decoder: no need to zero an image-sized buffer first.
                var rgb = PixelBuffers.Allocate(3 * width * height);
                fixed (byte* target = rgb)
                {
                    // Flags 0: accurate integer IDCT and fancy upsampling, libjpeg's (and PIL's) defaults.
                    // Non-zero also for warnings (e.g. premature end of data): leave those to Skia's rules.
                    if (Decompress2(handle, source, size, target, width, 3 * width, height, PixelFormatRgb, 0) != 0) return null;
                }
                clean = true;
                return new RgbImage(width, height, rgb);
            }
        }
        finally
        {
            // A handle that reported an error or warning may keep that state (libjpeg-turbo 2.1 does not
            // always reset it): only handles whose last call succeeded are reused.
            if (clean) Handles.Add(handle);
            else Destroy(handle);
        }
    }
}
