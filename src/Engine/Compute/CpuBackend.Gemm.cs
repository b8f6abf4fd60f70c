namespace GenMetrics.Compute;

public sealed partial class CpuBackend
{
    // PLACEHOLDER: plain loops until the SIMD GEMM lands.
    public void MultiplyTransposed(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int dim, Span<float> c)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float acc = 0;
                for (int k = 0; k < dim; k++) acc += a[i * dim + k] * b[j * dim + k];
                c[i * n + j] = acc;
            }
    }
}
