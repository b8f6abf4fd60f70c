using System.Runtime.InteropServices;
using GenMetrics.Features;

namespace GenMetrics.Cuda;

/// <summary>
/// Numbers bitwise-identical feature rows (across one or more matrices) with one class id, so that the kernels
/// can give identical rows a squared distance of exactly 0, as the CPU backend does. From ‖a‖² + ‖b‖² − 2·a·b
/// alone that 0 is out of reach on the GPU: cuBLAS accumulates a·b in an order the host norms cannot follow.
/// </summary>
internal sealed class RowIdentity
{
    private readonly Dictionary<RowRef, int> _classes = new(new RowComparer());

    public int ClassOf(FeatureMatrix m, int row)
    {
        var key = new RowRef(m, row);
        if (!_classes.TryGetValue(key, out int id))
        {
            id = _classes.Count;
            _classes.Add(key, id);
        }
        return id;
    }

    private readonly record struct RowRef(FeatureMatrix Matrix, int Row)
    {
        public ReadOnlySpan<byte> Bytes => MemoryMarshal.AsBytes(Matrix.Row(Row));
    }

    private sealed class RowComparer : IEqualityComparer<RowRef>
    {
        public bool Equals(RowRef x, RowRef y) => x.Bytes.SequenceEqual(y.Bytes);

        public int GetHashCode(RowRef r)
        {
            var h = new HashCode();
            h.AddBytes(r.Bytes);
            return h.ToHashCode();
        }
    }
}
