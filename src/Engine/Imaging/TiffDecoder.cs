using System.Buffers.Binary;
using System.IO.Compression;

namespace GenMetrics.Imaging;

/// <summary>
/// Baseline TIFF (the first image of the file) to RGB8 as PIL's <c>Image.open(f).convert('RGB')</c> gives
/// it: little- or big-endian; strips or tiles; uncompressed, PackBits, LZW or Deflate (zlib), with or
/// without horizontal-differencing predictor; bilevel and gray (1, 2, 4, 8 bit, either photometric
/// sense), palette (1, 2, 4, 8 bit; PIL keeps the high byte of each 16-bit colour map entry) and RGB /
/// RGBA (8 bit; unassociated alpha is dropped without compositing). Anything else (16-bit samples,
/// CMYK, YCbCr/JPEG-in-TIFF, separate planes, premultiplied alpha) is refused with a message naming what,
/// and damaged or truncated data is refused as PIL refuses it, never decoded as garbage.
/// </summary>
internal static class TiffDecoder
{
    public static bool IsTiff(ReadOnlySpan<byte> d) =>
        d.Length >= 4 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) || (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42));

    sealed class Ifd
    {
        public readonly Dictionary<int, long[]> Values = [];
        public long One(int tag, long fallback) => Values.TryGetValue(tag, out var v) && v.Length > 0 ? v[0] : fallback;
    }

    public static RgbImage Decode(ReadOnlySpan<byte> data, string name)
    {
        if (!IsTiff(data)) throw Bad(name, "not a TIFF signature");
        bool little = data[0] == 'I';
        var ifd = ReadIfd(data, little, name);
        long width = ifd.One(256, 0), height = ifd.One(257, 0);
        if (width <= 0 || height <= 0 || width > 1 << 20 || height > 1 << 20) throw Bad(name, $"invalid size {width}x{height}");
        int compression = (int)ifd.One(259, 1);
        int photometric = (int)ifd.One(262, -1);
        int spp = (int)ifd.One(277, 1);
        int bps = ifd.Values.TryGetValue(258, out var bitsList) ? (int)bitsList[0] : 1;
        if (bitsList is not null && bitsList.Any(b => b != bps)) throw Unsupported(name, "different bit depths per sample");
        int predictor = (int)ifd.One(317, 1);
        int planar = (int)ifd.One(284, 1);
        int sampleFormat = (int)ifd.One(339, 1);
        if (sampleFormat != 1) throw Unsupported(name, $"sample format {sampleFormat} (only unsigned integers)");
        if (planar != 1 && spp > 1) throw Unsupported(name, "separate colour planes (PlanarConfiguration 2)");
        if (photometric < 0) photometric = spp >= 3 ? 2 : 1;
        int colorSamples = photometric == 2 ? 3 : 1;
        if (spp < colorSamples) throw Bad(name, $"{spp} samples per pixel for photometric {photometric}");
        if (spp > colorSamples)
        {
            long[] extra = ifd.Values.GetValueOrDefault(338) ?? [];
            if (extra.Length > 0 && extra[0] == 1) throw Unsupported(name, "premultiplied (associated) alpha");
        }
        switch (photometric)
        {
            case 0 or 1 or 3:
                if (bps is not (1 or 2 or 4 or 8)) throw Unsupported(name, $"{bps}-bit samples");
                break;
            case 2:
                if (bps != 8) throw Unsupported(name, $"{bps}-bit RGB samples");
                break;
            default:
                throw Unsupported(name, $"photometric interpretation {photometric} ({PhotometricName(photometric)})");
        }
        if (compression is not (1 or 5 or 8 or 32946 or 32773)) throw Unsupported(name, $"compression {compression}");
        if (predictor == 2 && bps != 8) throw Unsupported(name, $"predictor 2 with {bps}-bit samples");
        if (predictor is not (1 or 2)) throw Unsupported(name, $"predictor {predictor}");

        // The image as chunky rows of ceil(width * spp * bps / 8) bytes.
        long rowBytes = (width * spp * bps + 7) / 8;
        if (rowBytes * height > Array.MaxLength) throw Bad(name, $"image of {width}x{height} is too large");
        var raster = new byte[rowBytes * height];
        bool tiled = ifd.Values.ContainsKey(322);
        if (!tiled)
        {
            long rowsPerStrip = Math.Min(ifd.One(278, height), height);
            if (rowsPerStrip <= 0) rowsPerStrip = height;
            long strips = (height + rowsPerStrip - 1) / rowsPerStrip;
            var offsets = ifd.Values.GetValueOrDefault(273) ?? throw Bad(name, "no StripOffsets");
            var counts = ifd.Values.GetValueOrDefault(279) ?? throw Bad(name, "no StripByteCounts");
            if (offsets.Length < strips || counts.Length < strips) throw Bad(name, $"{offsets.Length} strips for {strips} expected");
            for (int s = 0; s < strips; s++)
            {
                long rows = Math.Min(rowsPerStrip, height - s * rowsPerStrip);
                var target = raster.AsSpan((int)(s * rowsPerStrip * rowBytes), (int)(rows * rowBytes));
                Decompress(Slice(data, offsets[s], counts[s], name), compression, target, name);
                if (predictor == 2) UndoPredictor(target, rowBytes, spp);
            }
        }
        else
        {
            long tw = ifd.One(322, 0), th = ifd.One(323, 0);
            if (tw <= 0 || th <= 0 || tw > 1 << 16 || th > 1 << 16) throw Bad(name, $"invalid tile size {tw}x{th}");
            long across = (width + tw - 1) / tw, down = (height + th - 1) / th;
            var offsets = ifd.Values.GetValueOrDefault(324) ?? throw Bad(name, "no TileOffsets");
            var counts = ifd.Values.GetValueOrDefault(325) ?? throw Bad(name, "no TileByteCounts");
            if (offsets.Length < across * down || counts.Length < across * down) throw Bad(name, $"{offsets.Length} tiles for {across * down} expected");
            long tileRowBytes = (tw * spp * bps + 7) / 8;
            if (bps < 8 && tw * spp * bps % 8 != 0) throw Unsupported(name, "tiles that are not a whole number of bytes wide");
            var tile = new byte[tileRowBytes * th];
            for (long ty = 0; ty < down; ty++)
            {
                for (long tx = 0; tx < across; tx++)
                {
                    long t = ty * across + tx;
                    Decompress(Slice(data, offsets[t], counts[t], name), compression, tile, name);
                    if (predictor == 2) UndoPredictor(tile, tileRowBytes, spp);
                    long x0Bytes = tx * tileRowBytes;
                    long copy = Math.Min(tileRowBytes, rowBytes - x0Bytes);
                    for (long y = 0; y < th && ty * th + y < height; y++)
                        tile.AsSpan((int)(y * tileRowBytes), (int)copy).CopyTo(raster.AsSpan((int)((ty * th + y) * rowBytes + x0Bytes)));
                }
            }
        }
        return ToRgb(raster, (int)width, (int)height, rowBytes, spp, bps, photometric, ifd, name);
    }

    static RgbImage ToRgb(byte[] raster, int width, int height, long rowBytes, int spp, int bps, int photometric, Ifd ifd, string name)
    {
        var rgb = new byte[3L * width * height];
        if (photometric == 2)
        {
            for (int y = 0; y < height; y++)
            {
                long src = y * rowBytes, dst = 3L * y * width;
                for (int x = 0; x < width; x++, src += spp, dst += 3)
                {
                    rgb[dst] = raster[src];
                    rgb[dst + 1] = raster[src + 1];
                    rgb[dst + 2] = raster[src + 2];
                }
            }
            return new RgbImage(width, height, rgb);
        }
        int max = (1 << bps) - 1;
        byte[]? palette = null;
        if (photometric == 3)
        {
            var map = ifd.Values.GetValueOrDefault(320) ?? throw Bad(name, "palette image without a ColorMap");
            int entries = 1 << bps;
            if (map.Length < 3 * entries) throw Bad(name, $"ColorMap has {map.Length} values, {3 * entries} needed");
            palette = new byte[3 * entries];
            for (int i = 0; i < entries; i++)
                for (int c = 0; c < 3; c++) palette[3 * i + c] = (byte)(map[c * entries + i] >> 8);
        }
        for (int y = 0; y < height; y++)
        {
            long row = y * rowBytes;
            for (int x = 0; x < width; x++)
            {
                long bit = (long)x * spp * bps;
                int v = bps == 8 ? raster[row + bit / 8] : (raster[row + bit / 8] >> (8 - bps - (int)(bit % 8))) & max;
                long dst = 3L * ((long)y * width + x);
                if (palette is not null)
                {
                    rgb[dst] = palette[3 * v];
                    rgb[dst + 1] = palette[3 * v + 1];
                    rgb[dst + 2] = palette[3 * v + 2];
                    continue;
                }
                if (photometric == 0) v = max - v;
                // PIL expands 1/2/4-bit gray to 8 bits by scaling to 0..255 (L;2 and L;4 multiply by 85 and 17).
                byte g = (byte)(v * 255 / max);
                rgb[dst] = rgb[dst + 1] = rgb[dst + 2] = g;
            }
        }
        return new RgbImage(width, height, rgb);
    }

    static void UndoPredictor(Span<byte> rows, long rowBytes, int spp)
    {
        for (long r = 0; r + rowBytes <= rows.Length; r += rowBytes)
        {
            var row = rows.Slice((int)r, (int)rowBytes);
            for (int i = spp; i < row.Length; i++) row[i] += row[i - spp];
        }
    }

    static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> data, long offset, long count, string name)
    {
        if (offset < 0 || count < 0 || offset + count > data.Length)
            throw Bad(name, $"truncated: a strip or tile at byte {offset} of {count} bytes runs past the end of the {data.Length}-byte file");
        return data.Slice((int)offset, (int)count);
    }

    static void Decompress(ReadOnlySpan<byte> src, int compression, Span<byte> dst, string name)
    {
        switch (compression)
        {
            case 1:
                if (src.Length < dst.Length) throw Bad(name, $"truncated strip ({src.Length} of {dst.Length} bytes)");
                src[..dst.Length].CopyTo(dst);
                break;
            case 32773:
                PackBits(src, dst, name);
                break;
            case 5:
                Lzw(src, dst, name);
                break;
            default:
                Inflate(src, dst, name);
                break;
        }
    }

    static void PackBits(ReadOnlySpan<byte> src, Span<byte> dst, string name)
    {
        int i = 0, o = 0;
        while (o < dst.Length)
        {
            if (i >= src.Length) throw Bad(name, "truncated PackBits data");
            int n = (sbyte)src[i++];
            if (n >= 0)
            {
                if (i + n + 1 > src.Length || o + n + 1 > dst.Length) throw Bad(name, "broken PackBits data");
                src.Slice(i, n + 1).CopyTo(dst[o..]);
                i += n + 1;
                o += n + 1;
            }
            else if (n != -128)
            {
                if (i >= src.Length || o - n + 1 > dst.Length) throw Bad(name, "broken PackBits data");
                dst.Slice(o, 1 - n).Fill(src[i++]);
                o += 1 - n;
            }
        }
    }

    static void Inflate(ReadOnlySpan<byte> src, Span<byte> dst, string name)
    {
        try
        {
            using var z = new ZLibStream(new MemoryStream(src.ToArray(), writable: false), CompressionMode.Decompress);
            if (z.ReadAtLeast(dst, dst.Length, throwOnEndOfStream: false) < dst.Length) throw Bad(name, "truncated Deflate data");
        }
        catch (InvalidDataException)
        {
            throw Bad(name, "broken Deflate data (the compressed strip or tile is damaged)");
        }
    }

    // TIFF LZW: MSB-first codes of 9..12 bits, ClearCode 256, EndOfInformation 257, and the code width
    // grows one code early (at 511, 1023, 2047), as libtiff writes it.
    static void Lzw(ReadOnlySpan<byte> src, Span<byte> dst, string name)
    {
        if (src.Length >= 2 && src[0] == 0 && (src[1] & 1) != 0) throw Unsupported(name, "old-style (pre-TIFF 6) LZW");
        var prefix = new short[4096];
        var suffix = new byte[4096];
        var length = new short[4096];
        for (int i = 0; i < 256; i++)
        {
            prefix[i] = -1;
            suffix[i] = (byte)i;
            length[i] = 1;
        }
        int next = 258, width = 9, old = -1, o = 0;
        long bitPos = 0, bits = (long)src.Length * 8;
        while (o < dst.Length)
        {
            if (bitPos + width > bits) throw Bad(name, "truncated LZW data");
            int code = 0;
            for (int b = 0; b < width; b++, bitPos++)
                code = (code << 1) | ((src[(int)(bitPos >> 3)] >> (7 - (int)(bitPos & 7))) & 1);
            if (code == 257) break;
            if (code == 256)
            {
                next = 258;
                width = 9;
                old = -1;
                continue;
            }
            int first;
            if (code < next && (code < 256 || code >= 258))
            {
                first = Emit(code, prefix, suffix, length, dst, ref o, name);
                if (old >= 0) Add(ref next, old, (byte)first, prefix, suffix, length);
            }
            else if (code == next && old >= 0)
            {
                // The KwKwK case: the new string is old's string plus old's first byte.
                first = Emit(old, prefix, suffix, length, dst, ref o, name);
                if (o >= dst.Length) throw Bad(name, "LZW data decodes past the strip");
                dst[o++] = (byte)first;
                Add(ref next, old, (byte)first, prefix, suffix, length);
            }
            else
            {
                throw Bad(name, $"broken LZW data (code {code} before it is defined)");
            }
            old = code;
            if (next + 1 >= 1 << width && width < 12) width++;
        }
        if (o < dst.Length) throw Bad(name, $"truncated LZW data ({o} of {dst.Length} bytes)");
    }

    static void Add(ref int next, int old, byte first, short[] prefix, byte[] suffix, short[] length)
    {
        if (next >= 4096) return;
        prefix[next] = (short)old;
        suffix[next] = first;
        length[next] = (short)(length[old] + 1);
        next++;
    }

    static int Emit(int code, short[] prefix, byte[] suffix, short[] length, Span<byte> dst, ref int o, string name)
    {
        int n = length[code];
        if (o + n > dst.Length) throw Bad(name, "LZW data decodes past the strip");
        int c = code;
        for (int i = n - 1; i >= 0; i--)
        {
            dst[o + i] = suffix[c];
            c = prefix[c];
        }
        o += n;
        return dst[o - n];
    }

    static uint U32(ReadOnlySpan<byte> d, long at, bool little, string name) =>
        at >= 0 && at + 4 <= d.Length ? (little ? BinaryPrimitives.ReadUInt32LittleEndian(d[(int)at..]) : BinaryPrimitives.ReadUInt32BigEndian(d[(int)at..])) : throw Bad(name, "truncated header");

    static ushort U16(ReadOnlySpan<byte> d, long at, bool little, string name) =>
        at >= 0 && at + 2 <= d.Length ? (little ? BinaryPrimitives.ReadUInt16LittleEndian(d[(int)at..]) : BinaryPrimitives.ReadUInt16BigEndian(d[(int)at..])) : throw Bad(name, "truncated header");

    static Ifd ReadIfd(ReadOnlySpan<byte> d, bool little, string name)
    {
        long offset = U32(d, 4, little, name);
        int count = U16(d, offset, little, name);
        if (offset + 2 + 12L * count > d.Length) throw Bad(name, "truncated image file directory");
        var ifd = new Ifd();
        for (int i = 0; i < count; i++)
        {
            long e = offset + 2 + 12L * i;
            int tag = U16(d, e, little, name), type = U16(d, e + 2, little, name);
            long n = U32(d, e + 4, little, name);
            int size = type switch { 1 or 2 or 6 or 7 => 1, 3 or 8 => 2, 4 or 9 => 4, 5 or 10 => 8, 16 => 8, _ => 0 };
            if (size == 0 || type is 2 or 5 or 7 or 10) continue; // strings, rationals, opaque: not needed
            if (n > 1 << 24) throw Bad(name, $"tag {tag} declares {n} values");
            long at = size * n <= 4 ? e + 8 : U32(d, e + 8, little, name);
            if (at + size * n > d.Length) throw Bad(name, $"tag {tag} points past the end of the file");
            var values = new long[n];
            for (int k = 0; k < n; k++)
            {
                long p = at + (long)k * size;
                values[k] = size switch
                {
                    1 => d[(int)p],
                    2 => U16(d, p, little, name),
                    4 => U32(d, p, little, name),
                    _ => (long)(little ? BinaryPrimitives.ReadUInt64LittleEndian(d[(int)p..]) : BinaryPrimitives.ReadUInt64BigEndian(d[(int)p..])),
                };
            }
            ifd.Values[tag] = values;
        }
        return ifd;
    }

    static string PhotometricName(int p) => p switch { 4 => "transparency mask", 5 => "CMYK", 6 => "YCbCr", 8 => "CIELab", _ => "unknown" };

    static InputException Bad(string name, string problem) => InputException.For(name, $"damaged TIFF: {problem}");

    static InputException Unsupported(string name, string what) => InputException.For(name, $"unsupported TIFF: {what}");
}
