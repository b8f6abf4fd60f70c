using GenMetrics.Compute.Gemm;

namespace GenMetrics.Compute;

public sealed partial class CpuBackend
{
    /// <summary>Rows of one parallel task: one packed A block of the workspace.</summary>
    private const int GemmTaskRows = SgemmWorkspace.MC;

    /// <summary>Columns of one parallel task at most: the task's C strip (MC x this) is swept once per K block.</summary>
    private const int GemmTaskMaxCols = 2048;

    public unsafe void MultiplyTransposed(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int dim, Span<float> c)
    {
        if (m < 0 || n < 0 || dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), $"invalid shapes [{m}, {dim}] x [{n}, {dim}]");
        if (a.Length < (long)m * dim) throw new ArgumentException($"A holds {a.Length} values, needs {(long)m * dim}", nameof(a));
        if (b.Length < (long)n * dim) throw new ArgumentException($"B holds {b.Length} values, needs {(long)n * dim}", nameof(b));
        if (c.Length < (long)m * n) throw new ArgumentException($"C holds {c.Length} values, needs {(long)m * n}", nameof(c));
        if (m == 0 || n == 0) return;

        // Tasks are (row panel, column panel) pairs: row panels of MC rows so each task packs its A panel
        // once per K block; column panels split further when there are few row panels, so that every core
        // gets several tasks (other processes share these cores: more, smaller tasks balance better).
        int rowPanels = (m + GemmTaskRows - 1) / GemmTaskRows;
        int wantedTasks = 4 * Environment.ProcessorCount;
        int colPanels = Math.Clamp((wantedTasks + rowPanels - 1) / rowPanels, 1, Math.Max(1, n / 256));
        colPanels = Math.Max(colPanels, (n + GemmTaskMaxCols - 1) / GemmTaskMaxCols);
        int colsPerPanel = (n + colPanels - 1) / colPanels;
        colsPerPanel = (colsPerPanel + SgemmKernels.NR - 1) / SgemmKernels.NR * SgemmKernels.NR;
        colPanels = (n + colsPerPanel - 1) / colsPerPanel;

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            nint aAddr = (nint)pa, bAddr = (nint)pb, cAddr = (nint)pc;
            Parallel.For(0, rowPanels * colPanels,
                () => new SgemmWorkspace(),
                (task, _, workspace) =>
                {
                    int r0 = task / colPanels * GemmTaskRows;
                    int c0 = task % colPanels * colsPerPanel;
                    int rows = Math.Min(GemmTaskRows, m - r0);
                    int cols = Math.Min(colsPerPanel, n - c0);
                    workspace.Multiply((float*)aAddr + (long)r0 * dim, rows, (float*)bAddr + (long)c0 * dim, cols, dim, null,
                        (float*)cAddr + (long)r0 * n + c0, n);
                    return workspace;
                },
                _ => { });
        }
    }
}
