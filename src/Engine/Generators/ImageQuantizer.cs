namespace GenMetrics.Generators;

/// <summary>
/// Generator output -> pixels. <see cref="ToPixelScale"/> maps the raw output range [low, high] onto
/// [0, 255] as x·s + o in float32 (s = 255/(high−low), o = −low·s: 127.5 and 127.5 for [−1, 1]);
/// <see cref="ToUInt8(float)"/> then truncates clamp(v + 0.5, 0, 255), which for [−1, 1] gives the same bytes as
/// StyleGAN2-ADA's <c>(x * 127.5 + 128).clamp(0, 255).to(torch.uint8)</c> (metrics-spec §2.2). Both add a
/// float32 constant to the same float32 product x·127.5, and 127.5 + 0.5 = 128 is exact, so the two roundings
/// only differ where the sum changes binade, at 128, which is an integer on both grids: truncation agrees.
/// </summary>
public static class ImageQuantizer
{
    public static void ToPixelScale(Span<float> values, double low, double high)
    {
        float scale = (float)(255.0 / (high - low));
        float offset = (float)(-low * (255.0 / (high - low)));
        for (int i = 0; i < values.Length; i++)
        {
            // Two separately rounded float32 operations, like torch's elementwise mul then add.
            float product = values[i] * scale;
            values[i] = product + offset;
        }
    }

    public static byte ToUInt8(float pixel)
    {
        float shifted = pixel + 0.5f;
        // NaN maps to 0 (our choice: torch leaves the uint8 cast of NaN undefined).
        if (!(shifted > 0f)) return 0;
        if (shifted >= 255f) return 255;
        return (byte)shifted;
    }

    public static byte[] ToUInt8(ReadOnlySpan<float> pixels)
    {
        var bytes = new byte[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) bytes[i] = ToUInt8(pixels[i]);
        return bytes;
    }
}
