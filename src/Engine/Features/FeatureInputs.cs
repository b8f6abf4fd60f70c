using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;

namespace GenMetrics.Features;

/// <summary>What a feature or statistics file holds: features [N, D] or Gaussian statistics (mu, sigma).</summary>
public abstract class FeatureInput
{
    private protected FeatureInput(string name, int dim)
    {
        Name = name;
        Dim = dim;
    }

    /// <summary>The file, with the npz key when the array is a member ("a.npz[feats]"): used in messages.</summary>
    public string Name { get; }
    public int Dim { get; }
}

/// <summary>
/// Gaussian statistics read from an npz with `mu` [D] and `sigma` [D, D] (or exactly one [D] and one [D, D]
/// array under other names), already validated: finite, symmetric, positive semi-definite.
/// </summary>
public sealed class StatisticsInput : FeatureInput
{
    internal StatisticsInput(string name, GaussianStatistics statistics, string? note = null) : base(name, statistics.Dim)
    {
        Statistics = statistics;
        Note = note;
    }

    public GaussianStatistics Statistics { get; }

    /// <summary>How the file was read when that is not obvious (statistics recognised by shape under other keys), or null.</summary>
    public string? Note { get; }
}

/// <summary>
/// A 2-D [N, D] float32 or float64 array in a .npy file or an .npz member. Nothing is read until
/// <see cref="Load"/> or <see cref="EnumerateBlocks"/>, which stream from the file and check that every
/// value is finite.
/// </summary>
public sealed class FeatureFileInput : FeatureInput, IRowBlockSource
{
    const int ChunkBytes = 8 << 20;
    readonly string path;
    readonly string? member;
    readonly NpyHeader header;

    internal FeatureFileInput(string path, string? member, string name, NpyHeader header)
        : base(name, checked((int)header.Shape[1]))
    {
        this.path = path;
        this.member = member;
        this.header = header;
        Rows = checked((int)header.Shape[0]);
    }

    public int Rows { get; }

    /// <summary>"float32" or "float64".</summary>
    public string DType => header.DTypeName;

    /// <summary>
    /// The whole array as row-major float32 (float64 values are rounded to float32), read straight into the
    /// matrix's storage (a managed array, or native memory beyond 2^31 values). Throws an
    /// <see cref="InputException"/> naming the file for a non-finite value, a truncated file or when the
    /// N·D·4 bytes cannot be allocated.
    /// </summary>
    public FeatureMatrix Load(IProgress<double>? progress = null)
    {
        long total = (long)Rows * Dim;
        FeatureMatrix matrix;
        try
        {
            matrix = FeatureMatrix.Allocate(Rows, Dim, Name);
        }
        catch (InsufficientMemoryException e)
        {
            throw InputException.For(Name, e.Message);
        }
        try
        {
            using var reader = ArrayReader.Open(path, member, Name, header);
            if (header.IsFloat32 && !header.FortranOrder)
            {
                // The common case reads straight into the destination: no second copy of a multi-GB array.
                int rowsPerChunk = Math.Max(1, Math.Min(matrix.RowsPerSpan, ChunkBytes / 4 / Dim));
                for (int start = 0; start < Rows;)
                {
                    int count = Math.Min(rowsPerChunk, Rows - start);
                    var chunk = matrix.WritableRowRange(start, count);
                    ReadExactly(reader.Data, MemoryMarshal.AsBytes(chunk));
                    CheckFinite<float>(chunk, (long)start * Dim);
                    start += count;
                    progress?.Report((double)start / Rows);
                }
            }
            else
            {
                var chunk = new double[ChunkBytes / 8];
                var scratch = new byte[ChunkBytes];
                long rows = Rows;
                for (long done = 0; done < total;)
                {
                    int n = (int)Math.Min(chunk.Length, total - done);
                    ReadValues(reader.Data, chunk.AsSpan(0, n), scratch, done);
                    for (int k = 0; k < n; k++)
                    {
                        long flat = done + k;
                        float v = (float)chunk[k];
                        if (!float.IsFinite(v))
                            throw InputException.For(Name, $"{Position(flat)} is {chunk[k]}, outside the float32 range (features must be finite)");
                        matrix.At(header.FortranOrder ? flat % rows * Dim + flat / rows : flat) = v;
                    }
                    done += n;
                    progress?.Report((double)done / total);
                }
            }
        }
        catch
        {
            matrix.Dispose();
            throw;
        }
        if (total == 0) progress?.Report(1);
        return matrix;
    }

    public IEnumerable<RowBlock> EnumerateBlocks(int maxRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRows);
        maxRows = Math.Min(maxRows, Math.Max(1, int.MaxValue / 8 / Dim));
        using var reader = ArrayReader.Open(path, member, Name, header);
        var scratch = new byte[ChunkBytes];
        if (!header.FortranOrder)
        {
            var buffer = new double[(long)Math.Min(maxRows, Math.Max(Rows, 1)) * Dim];
            for (int start = 0; start < Rows; start += maxRows)
            {
                int count = Math.Min(maxRows, Rows - start);
                ReadValues(reader.Data, buffer.AsSpan(0, count * Dim), scratch, (long)start * Dim);
                yield return new RowBlock(buffer, start, count, Dim);
            }
        }
        else
        {
            // Column-major data cannot yield rows without seeing every column, so Fortran-order files
            // (rare: np.save of a transposed array) are read whole as float64, then gathered row by row.
            long total = (long)Rows * Dim;
            if (total > Array.MaxLength)
                throw InputException.For(Name, $"a Fortran-order [{Rows}, {Dim}] array is too large to read at once");
            var columns = new double[total];
            for (long done = 0; done < total;)
            {
                int n = (int)Math.Min(ChunkBytes / 8, total - done);
                ReadValues(reader.Data, columns.AsSpan((int)done, n), scratch, done);
                done += n;
            }
            var buffer = new double[(long)Math.Min(maxRows, Math.Max(Rows, 1)) * Dim];
            for (int start = 0; start < Rows; start += maxRows)
            {
                int count = Math.Min(maxRows, Rows - start);
                for (int i = 0; i < count; i++)
                    for (int j = 0; j < Dim; j++)
                        buffer[i * Dim + j] = columns[(long)j * Rows + start + i];
                yield return new RowBlock(buffer, start, count, Dim);
            }
        }
    }

    /// <summary>Reads values [first, first + dst.Length) in file order as float64, checking they are finite.</summary>
    void ReadValues(Stream stream, Span<double> dst, byte[] scratch, long first)
    {
        int itemSize = header.ItemSize;
        int perChunk = scratch.Length / itemSize;
        for (int done = 0; done < dst.Length;)
        {
            int n = Math.Min(perChunk, dst.Length - done);
            var raw = scratch.AsSpan(0, n * itemSize);
            ReadExactly(stream, raw);
            var target = dst.Slice(done, n);
            if (header.IsFloat64) MemoryMarshal.Cast<byte, double>(raw).CopyTo(target);
            else
            {
                var src = MemoryMarshal.Cast<byte, float>(raw);
                for (int k = 0; k < n; k++) target[k] = src[k];
            }
            CheckFinite<double>(target, first + done);
            done += n;
        }
    }

    void ReadExactly(Stream stream, Span<byte> buffer)
    {
        try
        {
            if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
                throw Truncated();
        }
        catch (InvalidDataException)
        {
            throw InputException.For(Name, "corrupt compressed data (the Deflate stream is damaged)");
        }
    }

    internal InputException Truncated() => InputException.For(Name,
        $"file is truncated: shape {header.ShapeText} {DType} needs {header.ElementCount * header.ItemSize} bytes of data");

    void CheckFinite<T>(ReadOnlySpan<T> values, long first) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int bad = FeatureFiles.IndexOfNonFinite(values);
        if (bad >= 0) throw InputException.For(Name, $"{Position(first + bad)} is {values[bad]} (features must be finite)");
    }

    /// <summary>Row and column of the value at a file-order index.</summary>
    string Position(long flat) => header.FortranOrder
        ? $"row {flat % Rows}, column {flat / Rows}"
        : $"row {flat / Dim}, column {flat % Dim}";
}

/// <summary>An open stream positioned at an array's first data byte, in a .npy file or an npz member.</summary>
sealed class ArrayReader : IDisposable
{
    readonly FileStream file;
    readonly ZipArchive? zip;

    ArrayReader(FileStream file, ZipArchive? zip, Stream data)
    {
        this.file = file;
        this.zip = zip;
        Data = data;
    }

    public Stream Data { get; }

    public static ArrayReader Open(string path, string? member, string name, NpyHeader expected)
    {
        var file = FeatureFiles.OpenFile(path);
        ZipArchive? zip = null;
        Stream? data = null;
        try
        {
            if (member == null) data = file;
            else
            {
                zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
                var entry = zip.GetEntry(member) ?? throw InputException.For(path, $"member {member} disappeared");
                data = CrcCheckedStream.Open(entry, name);
            }
            var header = NpyHeader.Read(data, name);
            if (header.Descr != expected.Descr || header.FortranOrder != expected.FortranOrder || !header.Shape.SequenceEqual(expected.Shape))
                throw InputException.For(name, "file changed since it was opened");
            return new ArrayReader(file, zip, data);
        }
        catch (Exception e)
        {
            data?.Dispose();
            zip?.Dispose();
            file.Dispose();
            if (e is InvalidDataException) throw InputException.For(name, $"not a readable zip archive ({IoErrors.Zip((InvalidDataException)e)})");
            throw;
        }
    }

    public void Dispose()
    {
        if (!ReferenceEquals(Data, file)) Data.Dispose();
        zip?.Dispose();
        file.Dispose();
    }
}
