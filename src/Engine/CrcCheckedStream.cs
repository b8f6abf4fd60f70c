using System.IO.Compression;
using System.IO.Hashing;

namespace GenMetrics;

/// <summary>
/// Reads a zip member and checks its CRC-32 when the end is reached: .NET's ZipArchive does not, so a
/// damaged stored (uncompressed) member would otherwise be read as valid data. Used by every archive
/// reader (npz features and statistics, image zips, PyTorch checkpoints). A mismatch, or a member that
/// ends before or after its declared size, is an <see cref="InputException"/> naming the member.
/// </summary>
internal sealed class CrcCheckedStream : Stream
{
    readonly Stream inner;
    readonly Crc32 crc = new();
    readonly uint expectedCrc;
    readonly long expectedLength;
    readonly string name;
    long read;
    bool checkedEnd;

    CrcCheckedStream(Stream inner, uint expectedCrc, long expectedLength, string name)
    {
        this.inner = inner;
        this.expectedCrc = expectedCrc;
        this.expectedLength = expectedLength;
        this.name = name;
    }

    /// <summary>Opens <paramref name="entry"/> for reading with its CRC checked at the end; <paramref name="name"/> names it in errors.</summary>
    public static CrcCheckedStream Open(ZipArchiveEntry entry, string name)
    {
        try
        {
            return new CrcCheckedStream(entry.Open(), entry.Crc32, entry.Length, name);
        }
        catch (InvalidDataException e)
        {
            throw InputException.For(name, $"corrupt zip member ({IoErrors.Zip(e)})");
        }
    }

    /// <summary>The whole member, checked; its declared size is refused before allocating when it exceeds <paramref name="maxBytes"/>.</summary>
    public static byte[] ReadAll(ZipArchiveEntry entry, string name, long maxBytes = long.MaxValue)
    {
        if (entry.Length > maxBytes || entry.Length > Array.MaxLength)
            throw InputException.For(name, $"zip member declares {entry.Length} bytes, more than the {Math.Min(maxBytes, Array.MaxLength)} it may hold");
        using var s = Open(entry, name);
        var buffer = new byte[entry.Length];
        s.ReadExactlyChecked(buffer);
        return buffer;
    }

    /// <summary>Fills <paramref name="buffer"/> and, when that reaches the declared end, checks the CRC.</summary>
    public void ReadExactlyChecked(Span<byte> buffer)
    {
        if (this.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
            throw InputException.For(name, $"zip member is shorter than its declared {expectedLength} bytes");
        if (read == expectedLength) VerifyEnd();
    }

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = inner.Read(buffer);
        }
        catch (InvalidDataException)
        {
            throw InputException.For(name, "corrupt compressed data (the Deflate stream is damaged)");
        }
        if (n > 0)
        {
            crc.Append(buffer[..n]);
            read += n;
            if (read > expectedLength) throw InputException.For(name, $"zip member is longer than its declared {expectedLength} bytes");
            if (read == expectedLength) VerifyEnd();
        }
        else if (buffer.Length > 0)
        {
            VerifyEnd();
        }
        return n;
    }

    void VerifyEnd()
    {
        if (checkedEnd) return;
        checkedEnd = true;
        if (read != expectedLength) throw InputException.For(name, $"zip member ends after {read} of its declared {expectedLength} bytes");
        uint actual = crc.GetCurrentHashAsUInt32();
        if (actual != expectedCrc)
            throw InputException.For(name, $"CRC-32 mismatch in the zip member (stored {expectedCrc:x8}, computed {actual:x8}): the file is damaged");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => expectedLength;
    public override long Position { get => read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
