using GenMetrics.Features;

namespace GenMetrics.Compute;

/// <summary>
/// Tiles of squared Euclidean distances between the rows of two feature matrices (which may be the same
/// matrix), computed as ‖a−s‖² + ‖b−s‖² − 2 (a−s)·(b−s), clamped at 0, with an optional shift s
/// (usually the real-set mean: distances do not change, the cancellation error does).
/// Identical rows give exactly 0: the norms are accumulated in the same order as the dot products.
/// The shared object holds the norms; each thread computes tiles through its own <see cref="Worker"/>.
/// </summary>
public sealed class SquaredDistanceTiles
{
    // PLACEHOLDER (to be replaced by the SIMD GEMM): plain loops, same arithmetic order for norms and dots.
    private readonly FeatureMatrix _rows;
    private readonly FeatureMatrix _cols;
    private readonly float[]? _shift;
    private readonly float[] _rowNorms;
    private readonly float[] _colNorms;

    public SquaredDistanceTiles(FeatureMatrix rows, FeatureMatrix cols, float[]? shift = null)
    {
        if (rows.Dim != cols.Dim) throw new ArgumentException($"dimension mismatch: {rows.Dim} vs {cols.Dim}");
        if (shift is not null && shift.Length != rows.Dim) throw new ArgumentException("shift length must equal the dimension");
        _rows = rows;
        _cols = cols;
        _shift = shift;
        _rowNorms = Norms(rows);
        _colNorms = ReferenceEquals(rows, cols) ? _rowNorms : Norms(cols);
    }

    /// <summary>Rows per tile that suit the kernel's blocking (a hint; any size works).</summary>
    public static int PreferredRowBlock => 256;

    /// <summary>Columns per tile that suit the kernel's blocking (a hint; any size works).</summary>
    public static int PreferredColBlock => 2048;

    public FeatureMatrix RowMatrix => _rows;
    public FeatureMatrix ColumnMatrix => _cols;

    /// <summary>A per-thread workspace. Not thread-safe; create one per thread.</summary>
    public Worker CreateWorker() => new(this);

    private float[] Norms(FeatureMatrix m)
    {
        var norms = new float[m.Rows];
        for (int i = 0; i < m.Rows; i++) norms[i] = Dot(m.Row(i), m.Row(i));
        return norms;
    }

    private float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float acc = 0;
        if (_shift is null)
            for (int k = 0; k < a.Length; k++) acc = MathF.FusedMultiplyAdd(a[k], b[k], acc);
        else
            for (int k = 0; k < a.Length; k++) acc = MathF.FusedMultiplyAdd(a[k] - _shift[k], b[k] - _shift[k], acc);
        return acc;
    }

    public sealed class Worker
    {
        private readonly SquaredDistanceTiles _owner;
        internal Worker(SquaredDistanceTiles owner) => _owner = owner;

        /// <summary>
        /// tile[i * colCount + j] = d²(rows[rowStart + i], cols[colStart + j]) for i &lt; rowCount, j &lt; colCount.
        /// </summary>
        public void Compute(int rowStart, int rowCount, int colStart, int colCount, Span<float> tile)
        {
            var o = _owner;
            for (int i = 0; i < rowCount; i++)
            {
                var a = o._rows.Row(rowStart + i);
                float na = o._rowNorms[rowStart + i];
                for (int j = 0; j < colCount; j++)
                {
                    float d = na + o._colNorms[colStart + j] - 2f * o.Dot(a, o._cols.Row(colStart + j));
                    tile[i * colCount + j] = d > 0f ? d : 0f;
                }
            }
        }
    }
}
