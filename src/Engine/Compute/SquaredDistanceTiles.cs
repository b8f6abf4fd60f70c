using GenMetrics.Compute.Gemm;
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
        _rowNorms = Norms(rows, shift);
        _colNorms = ReferenceEquals(rows, cols) ? _rowNorms : Norms(cols, shift);
    }

    /// <summary>Rows per tile that suit the kernel's blocking (a hint; any size works).</summary>
    /// <remarks>One packed A panel (512 rows x one K block = 512 KiB) stays in L2 for the whole tile.</remarks>
    public static int PreferredRowBlock => SgemmWorkspace.MC;

    /// <summary>Columns per tile that suit the kernel's blocking (a hint; any size works).</summary>
    public static int PreferredColBlock => 2048;

    public FeatureMatrix RowMatrix => _rows;

    /// <summary>‖rows[i] − s‖² as stored and used by the tiles (float32 accumulation).</summary>
    public ReadOnlySpan<float> RowNorms => _rowNorms;

    /// <summary>‖cols[j] − s‖² as stored and used by the tiles.</summary>
    public ReadOnlySpan<float> ColumnNorms => _colNorms;
    public FeatureMatrix ColumnMatrix => _cols;

    /// <summary>A per-thread workspace. Not thread-safe; create one per thread.</summary>
    public Worker CreateWorker() => new(this, SgemmKernels.Best);

    internal Worker CreateWorker(SgemmIsa isa) => new(this, isa);

    private static unsafe float[] Norms(FeatureMatrix m, float[]? shift)
    {
        var norms = new float[m.Rows];
        int dim = m.Dim;
        fixed (float* data = m)
        fixed (float* s = shift)
        {
            for (int i = 0; i < m.Rows; i++) norms[i] = SgemmWorkspace.SquaredNorm(data + (long)i * dim, dim, s);
        }
        return norms;
    }

    public sealed class Worker
    {
        private readonly SquaredDistanceTiles _owner;
        private readonly SgemmWorkspace _gemm;

        internal Worker(SquaredDistanceTiles owner, SgemmIsa isa)
        {
            _owner = owner;
            _gemm = new SgemmWorkspace(isa);
        }

        /// <summary>
        /// tile[i * colCount + j] = d²(rows[rowStart + i], cols[colStart + j]) for i &lt; rowCount, j &lt; colCount.
        /// </summary>
        public unsafe void Compute(int rowStart, int rowCount, int colStart, int colCount, Span<float> tile)
        {
            var o = _owner;
            if (rowStart < 0 || rowCount < 0 || rowStart + rowCount > o._rows.Rows)
                throw new ArgumentOutOfRangeException(nameof(rowCount), $"rows [{rowStart}, {rowStart + rowCount}) outside [0, {o._rows.Rows})");
            if (colStart < 0 || colCount < 0 || colStart + colCount > o._cols.Rows)
                throw new ArgumentOutOfRangeException(nameof(colCount), $"columns [{colStart}, {colStart + colCount}) outside [0, {o._cols.Rows})");
            if (tile.Length < (long)rowCount * colCount)
                throw new ArgumentException($"tile holds {tile.Length} values, needs {(long)rowCount * colCount}", nameof(tile));
            if (rowCount == 0 || colCount == 0) return;

            int dim = o._rows.Dim;
            fixed (float* rows = o._rows)
            fixed (float* cols = o._cols)
            fixed (float* shift = o._shift)
            fixed (float* c = tile)
            {
                _gemm.Multiply(rows + (long)rowStart * dim, rowCount, cols + (long)colStart * dim, colCount, dim, shift, c, colCount);
            }

            var rowNorms = o._rowNorms.AsSpan(rowStart, rowCount);
            var colNorms = o._colNorms.AsSpan(colStart, colCount);
            for (int i = 0; i < rowCount; i++)
            {
                float na = rowNorms[i];
                var line = tile.Slice(i * colCount, colCount);
                for (int j = 0; j < line.Length; j++)
                {
                    // (na + nb) − 2·dot: for a == b all three are the same float, so this is exactly 0.
                    float d = na + colNorms[j] - 2f * line[j];
                    line[j] = d > 0f ? d : 0f;
                }
            }
        }
    }
}
