namespace GenMetrics.Models;

/// <summary>One tensor of a PyTorch state_dict, copied out of its storage into a contiguous row-major array.</summary>
public sealed class TorchTensor(string dtype, long[] shape, float[]? floats, double[]? doubles, long[]? longs)
{
    /// <summary>"float32", "float64", "float16" (held as float32), "int64" or "int32" (held as int64).</summary>
    public string DType { get; } = dtype;
    public long[] Shape { get; } = shape;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    private readonly float[]? _floats = floats;
    private readonly double[]? _doubles = doubles;
    private readonly long[]? _longs = longs;

    /// <summary>The values as float32 (float64 and integer tensors are converted).</summary>
    public float[] ToFloat32()
    {
        if (_floats is not null) return _floats;
        if (_doubles is not null) return Array.ConvertAll(_doubles, v => (float)v);
        return Array.ConvertAll(_longs!, v => (float)v);
    }

    public double[] ToFloat64()
    {
        if (_doubles is not null) return _doubles;
        if (_floats is not null) return Array.ConvertAll(_floats, v => (double)v);
        return Array.ConvertAll(_longs!, v => (double)v);
    }

    public long[] ToInt64() => _longs ?? throw new InvalidOperationException($"tensor is {DType}, not an integer type");

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
