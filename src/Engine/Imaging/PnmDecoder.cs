namespace GenMetrics.Imaging;

/// <summary>
/// Binary PGM (P5) and PPM (P6) with 8-bit samples (maxval 255, what PIL and most tools write), as PIL
/// reads them: gray replicated to RGB. Other variants (plain-text P1–P3, bitmaps P4, maxval other than
/// 255) are refused with a message naming the variant; a file shorter than its header declares is refused.
/// </summary>
internal static class PnmDecoder
{
    public static bool IsPnm(ReadOnlySpan<byte> d) => d.Length >= 3 && d[0] == 'P' && d[1] is (byte)'5' or (byte)'6' && IsSpace(d[2]);

    public static RgbImage Decode(ReadOnlySpan<byte> data, string name)
    {
        bool color = data[1] == '6';
        int pos = 2;
        long width = Field(data, ref pos, name), height = Field(data, ref pos, name), maxval = Field(data, ref pos, name);
        pos++; // the single whitespace byte after maxval
        if (width <= 0 || height <= 0 || width > 1 << 20 || height > 1 << 20) throw InputException.For(name, $"damaged {(color ? "PPM" : "PGM")}: invalid size {width}x{height}");
        if (maxval != 255) throw InputException.For(name, $"unsupported {(color ? "PPM" : "PGM")}: maxval {maxval} (only 8-bit files with maxval 255 are read)");
        int channels = color ? 3 : 1;
        long need = width * height * channels;
        if (data.Length - pos < need) throw InputException.For(name, $"truncated {(color ? "PPM" : "PGM")}: {data.Length - pos} of {need} bytes of pixels");
        var rgb = new byte[width * height * 3];
        var pixels = data.Slice(pos, (int)need);
        if (color) pixels.CopyTo(rgb);
        else
            for (int i = 0; i < pixels.Length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[i];
        return new RgbImage((int)width, (int)height, rgb);
    }

    static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    /// <summary>The next decimal header field, skipping whitespace and '#' comments.</summary>
    static long Field(ReadOnlySpan<byte> d, ref int pos, string name)
    {
        while (pos < d.Length && (IsSpace(d[pos]) || d[pos] == '#'))
        {
            if (d[pos] == '#') while (pos < d.Length && d[pos] != '\n') pos++;
            else pos++;
        }
        long value = 0;
        int start = pos;
        while (pos < d.Length && d[pos] is >= (byte)'0' and <= (byte)'9' && pos - start < 10) value = value * 10 + (d[pos++] - '0');
        if (pos == start || pos >= d.Length || !IsSpace(d[pos])) throw InputException.For(name, "damaged PGM/PPM header");
        return value;
    }
}
