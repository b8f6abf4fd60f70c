namespace GenMetrics.Features;

/// <summary>
/// Rows of a feature array delivered in blocks, as float64, so that statistics over a file larger than
/// memory (or stored as float64) can be accumulated without a full copy.
/// </summary>
public interface IRowBlockSource
{
    int Rows { get; }
    int Dim { get; }
    string Name { get; }

    /// <summary>
    /// Blocks of at most <paramref name="maxRows"/> rows, in order. The block's buffer may be reused by
    /// the next block: consume it before moving on.
    /// </summary>
    IEnumerable<RowBlock> EnumerateBlocks(int maxRows);
}

/// <summary>Rows [Start, Start + Count) of a source, row-major float64 in Data[0 .. Count*Dim).</summary>
public readonly record struct RowBlock(double[] Data, int Start, int Count, int Dim);
