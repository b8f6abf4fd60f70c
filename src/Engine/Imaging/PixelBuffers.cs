namespace GenMetrics.Imaging;

/// <summary>
/// The decoders' pixel arrays. Normally a new array per image; inside <see cref="StbImageDecoder.DecodeTransient"/>
/// one array per thread, reused while images keep their size. An image-sized array per file is a
/// large-object-heap allocation whose pages the runtime hands back and the kernel zeroes again: measured,
/// it made JPEG decoding half as fast as PIL's with the same libjpeg-turbo (perf/NOTES.md, images third round).
/// Only decoders that write every byte (libturbojpeg, the 8-bit PNG path) take their array from here.
/// </summary>
internal static class PixelBuffers
{
    [ThreadStatic] static bool transient;
    [ThreadStatic] static byte[]? spare;

    public static byte[] Allocate(int length)
    {
        if (!transient) return GC.AllocateUninitializedArray<byte>(length);
        if (spare is null || spare.Length != length) spare = GC.AllocateUninitializedArray<byte>(length);
        return spare;
    }

    /// <summary>Runs <paramref name="decode"/> with this thread's reusable array.</summary>
    public static RgbImage Transient<TState>(TState state, Func<TState, RgbImage> decode) where TState : allows ref struct
    {
        bool outer = transient;
        transient = true;
        try
        {
            return decode(state);
        }
        finally
        {
            transient = outer;
        }
    }
}
