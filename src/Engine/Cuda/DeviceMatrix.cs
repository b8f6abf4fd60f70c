using GenMetrics.Cuda.Interop;
using GenMetrics.Features;

namespace GenMetrics.Cuda;

/// <summary>
/// A feature matrix resident on the device (row-major, optionally shifted, float32 or float16) with the squared
/// norms of exactly the values stored, so that identical rows give a distance of (nearly) 0.
/// </summary>
internal sealed class DeviceMatrix : IDisposable
{
    private readonly DeviceBuffer<float>? _single;
    private readonly DeviceBuffer<Half>? _half;

    private DeviceMatrix(int rows, int dim, DeviceBuffer<float>? single, DeviceBuffer<Half>? half, DeviceBuffer<float> norms)
    {
        Rows = rows;
        Dim = dim;
        _single = single;
        _half = half;
        Norms = norms;
    }

    public int Rows { get; }
    public int Dim { get; }
    public DeviceBuffer<float> Norms { get; }

    public DevicePointer RowPointer(int row) =>
        _single is not null ? _single.At((long)row * Dim) : _half!.At((long)row * Dim);

    /// <summary>
    /// Uploads <paramref name="m"/> − <paramref name="shift"/> in blocks of rows (the host never holds a second
    /// full copy). Norms are summed in float64 on the host from the stored (rounded) values: O(N·D), negligible
    /// next to the O(N²·D) GEMMs, and more exact than a float32 norm kernel.
    /// </summary>
    public static DeviceMatrix Upload(CudaSession session, FeatureMatrix m, float[]? shift, CudaPrecision precision)
    {
        int rows = m.Rows, dim = m.Dim;
        bool half = precision == CudaPrecision.Fp16;
        DeviceBuffer<float>? single = null;
        DeviceBuffer<Half>? halfBuffer = null;
        DeviceBuffer<float>? norms = null;
        try
        {
            if (half) halfBuffer = session.Allocate<Half>((long)rows * dim);
            else single = session.Allocate<float>((long)rows * dim);
            norms = session.Allocate<float>(Math.Max(rows, 1));
            var hostNorms = new float[rows];
            int blockRows = Math.Max(1, Math.Min(rows, (4 << 20) / dim));
            var blockSingle = half ? null : new float[(long)blockRows * dim];
            var blockHalf = half ? new Half[(long)blockRows * dim] : null;
            for (int start = 0; start < rows; start += blockRows)
            {
                int count = Math.Min(blockRows, rows - start);
                int blockStart = start;
                // Rows are independent: spread the O(N·D) shift/convert/norm work over the cores, since it
                // is of the same order as the GPU's time for the whole distance pass at D = 2048.
                Parallel.For(0, count, i =>
                {
                    var row = m.Row(blockStart + i);
                    double norm = 0;
                    long offset = (long)i * dim;
                    for (int c = 0; c < dim; c++)
                    {
                        float v = shift is null ? row[c] : row[c] - shift[c];
                        if (half)
                        {
                            var h = (Half)v;
                            blockHalf![offset + c] = h;
                            v = (float)h;
                        }
                        else
                        {
                            blockSingle![offset + c] = v;
                        }
                        norm += (double)v * v;
                    }
                    hostNorms[blockStart + i] = (float)norm;
                });
                if (half) session.Upload<Half>(blockHalf.AsSpan(0, count * dim), halfBuffer!.At((long)start * dim));
                else session.Upload<float>(blockSingle.AsSpan(0, count * dim), single!.At((long)start * dim));
                // The host block is reused for the next rows.
                session.Synchronize();
            }
            session.Upload<float>(hostNorms, norms.Start);
            session.Synchronize();
            return new DeviceMatrix(rows, dim, single, halfBuffer, norms);
        }
        catch
        {
            single?.Dispose();
            halfBuffer?.Dispose();
            norms?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _single?.Dispose();
        _half?.Dispose();
        Norms.Dispose();
    }
}
