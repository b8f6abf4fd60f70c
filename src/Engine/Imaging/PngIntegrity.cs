using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace GenMetrics.Imaging;

/// <summary>
/// The checks libpng makes before it trusts a PNG, which stb_image skips (it decodes a damaged file as
/// garbage without complaint): the signature, each chunk's length and CRC-32, IHDR's fields, and the
/// zlib stream of the IDAT chunks (a valid deflate stream with its Adler-32, that inflates to exactly the
/// bytes the header implies, every row starting with a filter type 0–4). PIL refuses such files too
/// ("broken PNG file", "broken data stream"). Chunks after the last IDAT are checked like the others up
/// to IEND; a file that ends after complete image data without IEND is accepted, as PIL accepts it.
/// </summary>
internal static class PngIntegrity
{
    static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    /// <summary>
    /// Throws an <see cref="InputException"/> naming <paramref name="name"/> and the first problem found;
    /// otherwise returns the header and the inflated (still filtered) image data it checked.
    /// </summary>
    public static PngData Check(ReadOnlySpan<byte> data, string name)
    {
        if (!IsPng(data)) throw Bad(name, "not a PNG signature");
        int pos = 8;
        int width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
        bool seenHeader = false, seenData = false, dataEnded = false;
        var idat = new List<(int Start, int Length)>();
        while (true)
        {
            if (pos == data.Length && seenData) break; // no IEND: PIL accepts complete image data without it
            if (pos + 8 > data.Length)
                throw Bad(name, seenData ? "truncated (chunk header cut off)" : "truncated before the image data");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            var type = data.Slice(pos + 4, 4);
            string typeText = ChunkName(type);
            if (!IsChunkType(type)) throw Bad(name, $"chunk type '{typeText}' (bytes {Convert.ToHexString(type).ToLowerInvariant().Insert(6, " ").Insert(4, " ").Insert(2, " ")}) at byte {pos + 4} is not a valid PNG chunk name (4 ASCII letters)");
            if (length > int.MaxValue || pos + 12L + length > data.Length)
                throw Bad(name, $"truncated: chunk {typeText} declares {length} bytes, the file has {Math.Max(0, data.Length - pos - 12)} left");
            var body = data.Slice(pos + 8, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            uint actual = Crc32.HashToUInt32(data.Slice(pos + 4, 4 + (int)length));
            if (stored != actual) throw Bad(name, $"CRC mismatch in chunk {typeText} at byte {pos} (stored {stored:x8}, computed {actual:x8})");
            if (!seenHeader)
            {
                if (typeText != "IHDR" || length != 13) throw Bad(name, "the first chunk is not a 13-byte IHDR");
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                bitDepth = body[8];
                colorType = body[9];
                interlace = body[12];
                if (width <= 0 || height <= 0) throw Bad(name, $"invalid size {(uint)width}x{(uint)height} in IHDR");
                if (!ValidDepth(colorType, bitDepth)) throw Bad(name, $"invalid bit depth {bitDepth} for colour type {colorType}");
                if (body[10] != 0 || body[11] != 0 || interlace > 1) throw Bad(name, "unknown compression, filter or interlace method in IHDR");
                seenHeader = true;
            }
            else if (typeText == "IDAT")
            {
                if (dataEnded) throw Bad(name, "IDAT chunks are not consecutive");
                seenData = true;
                idat.Add((pos + 8, (int)length));
            }
            else if (typeText == "IEND")
            {
                break;
            }
            else if (typeText == "IHDR")
            {
                throw Bad(name, "a second IHDR chunk");
            }
            else if (seenData)
            {
                dataEnded = true;
            }
            pos += 12 + (int)length;
        }
        if (!seenData) throw Bad(name, "no image data (IDAT)");
        var raw = CheckImageData(data, idat, width, height, bitDepth, colorType, interlace == 1, name);
        return new PngData(width, height, bitDepth, colorType, interlace == 1, raw);
    }

    static byte[] CheckImageData(ReadOnlySpan<byte> data, List<(int Start, int Length)> idat, int width, int height, int bitDepth, int colorType, bool interlaced, string name)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        // Row starts of the filtered data: one filter byte then ceil(w * channels * depth / 8) bytes per row.
        var rows = new List<long>();
        long offset = 0;
        void Pass(long w, long h)
        {
            if (w == 0 || h == 0) return;
            long rowBytes = (w * channels * bitDepth + 7) / 8;
            for (long y = 0; y < h; y++)
            {
                rows.Add(offset);
                offset += 1 + rowBytes;
            }
        }
        if (!interlaced) Pass(width, height);
        else
        {
            // Adam7: (x0, y0, dx, dy) of the seven passes.
            ReadOnlySpan<int> p = [0, 0, 8, 8, 4, 0, 8, 8, 0, 4, 4, 8, 2, 0, 4, 4, 0, 2, 2, 4, 1, 0, 2, 2, 0, 1, 1, 2];
            for (int i = 0; i < 7; i++)
                Pass(((long)width - p[4 * i] + p[4 * i + 2] - 1) / p[4 * i + 2], ((long)height - p[4 * i + 1] + p[4 * i + 3] - 1) / p[4 * i + 3]);
        }
        long expected = offset;
        long total = 0;
        foreach (var (_, length) in idat) total += length;
        if (expected > Array.MaxLength - 1 || total > Array.MaxLength) throw Bad(name, $"image of {width}x{height} is too large");
        // Both buffers come from the shared pool (an image's worth of bytes per file otherwise); the caller
        // returns `raw` through PngData.Return.
        var compressed = ArrayPool<byte>.Shared.Rent((int)total);
        var raw = ArrayPool<byte>.Shared.Rent((int)expected + 1);
        bool handedOver = false;
        try
        {
            int at = 0;
            foreach (var (start, length) in idat)
            {
                data.Slice(start, length).CopyTo(compressed.AsSpan(at));
                at += length;
            }
            int got;
            try
            {
                using var zlib = new ZLibStream(new MemoryStream(compressed, 0, (int)total, writable: false), CompressionMode.Decompress);
                got = zlib.ReadAtLeast(raw.AsSpan(0, (int)expected + 1), (int)expected + 1, throwOnEndOfStream: false);
                // Drain to the end so that the Adler-32 trailer, when present, is read and checked (a stream cut
                // inside its trailer after complete image data is accepted, as by PIL, which stops at the last row).
                if (got <= expected)
                {
                    Span<byte> probe = stackalloc byte[1];
                    while (zlib.Read(probe) > 0) got++;
                }
            }
            catch (InvalidDataException)
            {
                throw Bad(name, "broken data stream (the zlib data is damaged)");
            }
            if (got < expected) throw Bad(name, $"truncated image data ({got} of {expected} bytes)");
            if (got > expected) throw Bad(name, "image data is longer than the header implies");
            foreach (long r in rows)
                if (raw[r] > 4) throw Bad(name, $"bad filter type {raw[r]} at row start {r} of the image data");
            handedOver = true;
            return raw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
            if (!handedOver) ArrayPool<byte>.Shared.Return(raw);
        }
    }

    static bool ValidDepth(int colorType, int depth) => colorType switch
    {
        0 => depth is 1 or 2 or 4 or 8 or 16,
        3 => depth is 1 or 2 or 4 or 8,
        2 or 4 or 6 => depth is 8 or 16,
        _ => false,
    };

    static bool IsChunkType(ReadOnlySpan<byte> t)
    {
        foreach (byte b in t)
            if (!(b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z')) return false;
        return true;
    }

    static string ChunkName(ReadOnlySpan<byte> t)
    {
        Span<char> c = stackalloc char[4];
        for (int i = 0; i < 4; i++) c[i] = t[i] is >= 32 and < 127 ? (char)t[i] : '?';
        return new string(c);
    }

    internal static InputException Bad(string name, string problem) => InputException.For(name, $"damaged PNG: {problem}");
}

/// <summary>
/// A checked PNG's header and its inflated image data (filter byte + row bytes per row), in a buffer rented
/// from the shared pool that may be longer than the data: <see cref="Return"/> gives it back (once).
/// </summary>
internal sealed class PngData(int width, int height, int bitDepth, int colorType, bool interlaced, byte[] filtered)
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    public int BitDepth { get; } = bitDepth;
    public int ColorType { get; } = colorType;
    public bool Interlaced { get; } = interlaced;
    public byte[] Filtered { get; private set; } = filtered;

    public void Return()
    {
        if (Filtered.Length > 0) ArrayPool<byte>.Shared.Return(Filtered);
        Filtered = [];
    }
}
