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
        // Exponent bits all ones is NaN or ±inf. Checked a vector at a time (this runs before every k-NN
        // pass, over up to 10^8+ values); the scalar loop only locates the first offender for the message.
        var bits = MemoryMarshal.Cast<float, uint>(Data.AsSpan(0, checked(Rows * Dim)));
        var exponent = new Vector<uint>(0x7f800000u);
        int i = 0;
        for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
        {
            if (Vector.EqualsAny(new Vector<uint>(bits[i..]) & exponent, exponent)) break;
        }
        for (; i < bits.Length; i++)
        {
            if ((bits[i] & 0x7f800000u) == 0x7f800000u)
                throw InputException.For(Name, $"value at row {i / Dim}, column {i % Dim} is {Data[i]} (features must be finite)");
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
