using System.Numerics;
using System.Runtime.InteropServices;

namespace GenMetrics.Features;

/// <summary>
/// N samples of D features each, row-major float32 in one array (row i is Data[i*Dim .. (i+1)*Dim)).
/// float32 is what every feature network produces and what the k-NN references compute in; statistics
/// for FID are accumulated in float64 from these values.
/// </summary>
public sealed class FeatureMatrix : IRowBlockSource
{
    public FeatureMatrix(float[] data, int rows, int dim, string name = "features")
    {
        ArgumentNullException.ThrowIfNull(data);
        if (rows < 0 || dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), $"invalid shape [{rows}, {dim}]");
        if ((long)rows * dim > data.LongLength)
            throw new ArgumentException($"data holds {data.LongLength} values, shape [{rows}, {dim}] needs {(long)rows * dim}");
        Data = data;
        Rows = rows;
        Dim = dim;
        Name = name;
    }

    public float[] Data { get; }
    public int Rows { get; }
    public int Dim { get; }

    /// <summary>Where the features came from (a file path, or a label): used in error messages.</summary>
    public string Name { get; }

    public ReadOnlySpan<float> Row(int i) => new(Data, i * Dim, Dim);

    public float this[int row, int col] => Data[(long)row * Dim + col];

    /// <summary>Throws an <see cref="InputException"/> naming the first NaN or infinite value.</summary>
    public void EnsureFinite()
    {
        // Exponent bits all ones is NaN or ±inf. This runs before every k-NN pass over up to 10^8+ values,
        // so chunks are checked in parallel, a SIMD vector at a time; the first chunk with an offender is
        // then scanned in order, so that the message names the first one.
        const int chunk = 1 << 20;
        int length = checked(Rows * Dim);
        int chunks = (length + chunk - 1) / chunk;
        int firstBad = int.MaxValue;
        Parallel.For(0, chunks, c =>
        {
            if (c > Volatile.Read(ref firstBad)) return;
            int start = c * chunk;
            if (!AllFinite(Data.AsSpan(start, Math.Min(chunk, length - start)))) InterlockedMin(ref firstBad, c);
        });
        if (firstBad == int.MaxValue) return;
        for (int i = firstBad * chunk; i < length; i++)
        {
            if (!float.IsFinite(Data[i]))
                throw InputException.For(Name, $"value at row {i / Dim}, column {i % Dim} is {Data[i]} (features must be finite)");
        }
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var exponent = new Vector<uint>(0x7f800000u);
        int i = 0;
        for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
        {
            if (Vector.EqualsAny(new Vector<uint>(bits[i..]) & exponent, exponent)) return false;
        }
        for (; i < bits.Length; i++)
        {
            if ((bits[i] & 0x7f800000u) == 0x7f800000u) return false;
        }
        return true;
    }

    private static void InterlockedMin(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value < seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    public IEnumerable<RowBlock> EnumerateBlocks(int maxRows)
    {
        if (maxRows <= 0) throw new ArgumentOutOfRangeException(nameof(maxRows));
        var buffer = new double[(long)Math.Min(maxRows, Math.Max(Rows, 1)) * Dim];
        for (int start = 0; start < Rows; start += maxRows)
        {
            int count = Math.Min(maxRows, Rows - start);
            var src = new ReadOnlySpan<float>(Data, start * Dim, count * Dim);
            for (int i = 0; i < src.Length; i++) buffer[i] = src[i];
            yield return new RowBlock(buffer, start, count, Dim);
        }
    }
}
