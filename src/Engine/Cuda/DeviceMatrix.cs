using GenMetrics.Cuda.Interop;
using GenMetrics.Features;

namespace GenMetrics.Cuda;

/// <summary>
/// A feature matrix resident on the device as the distance GEMMs read it (row-major, shifted, float32,
/// TF32-rounded float32 or float16) with the squared norms of exactly the values stored, so that identical
/// rows give a distance of (nearly) 0. Made on the device from a <see cref="ResidentFeatures"/> by
/// kernels/feature_preparation.cu: the host never touches the values again after the one upload.
/// </summary>
internal sealed class DeviceMatrix : IDisposable
{
    private const int PrepareFp32 = 0;   // PREPARE_* in feature_preparation.cu
    private const int PrepareTf32 = 1;
    private const int PrepareFp16 = 2;

    private readonly DeviceBuffer<float>? _single;
    private readonly DeviceBuffer<Half>? _half;

    private DeviceMatrix(int rows, int dim, CudaPrecision precision, DeviceBuffer<float>? single, DeviceBuffer<Half>? half, DeviceBuffer<float> norms)
    {
        Rows = rows;
        Dim = dim;
        Precision = precision;
        _single = single;
        _half = half;
        Norms = norms;
    }

    public int Rows { get; }
    public int Dim { get; }

    /// <summary>The GEMM arithmetic the stored values were prepared for (float16 storage, TF32 rounding or neither).</summary>
    public CudaPrecision Precision { get; }

    public DeviceBuffer<float> Norms { get; }

    /// <summary>The stored rows when they are float32 (fp32, tf32); the null pointer for float16.</summary>
    public DevicePointer SingleValues => _single?.Start ?? default;

    /// <summary>The stored rows when they are float16; the null pointer otherwise.</summary>
    public DevicePointer HalfValues => _half?.Start ?? default;

    public DevicePointer RowPointer(int row) =>
        _single is not null ? _single.At((long)row * Dim) : _half!.At((long)row * Dim);

    /// <summary>
    /// <paramref name="source"/> − <paramref name="shift"/> (a device vector of Dim floats; null for none) in
    /// the input type of <paramref name="precision"/>, with float64-summed norms. Throws an
    /// <see cref="InputException"/> when a value does not fit float16.
    /// </summary>
    public static DeviceMatrix Prepare(CudaSession session, KernelFunction prepareRows, ResidentFeatures source, DevicePointer? shift, CudaPrecision precision)
    {
        int rows = source.Rows, dim = source.Dim;
        bool half = precision == CudaPrecision.Fp16;
        DeviceBuffer<float>? single = null;
        DeviceBuffer<Half>? halfBuffer = null;
        DeviceBuffer<float>? norms = null;
        try
        {
            using var range = Nvtx.Range($"prepare {source.Name} ({precision.ToString().ToLowerInvariant()}, shift and norms)");
            if (half) halfBuffer = session.Allocate<Half>((long)rows * dim);
            else single = session.Allocate<float>((long)rows * dim);
            norms = session.Allocate<float>(Math.Max(rows, 1));
            using var overflow = session.Allocate<int>(1);
            session.Fill32(overflow.Start, 0, 1);
            int mode = precision switch { CudaPrecision.Tf32 => PrepareTf32, CudaPrecision.Fp16 => PrepareFp16, _ => PrepareFp32 };
            if (rows > 0)
            {
                session.Launch(prepareRows, ((rows + 7) / 8, 1), 256, 0, new KernelArguments()
                    .Add(source.Values.Start).Add(rows).Add(dim)
                    .Add(shift ?? default).Add(mode)
                    .Add(single?.Start ?? default).Add(halfBuffer?.Start ?? default)
                    .Add(norms.Start).Add(overflow.Start));
            }
            if (half)
            {
                Span<int> flag = stackalloc int[1];
                session.Download(overflow.Start, flag);
                if (flag[0] != 0)
                    throw InputException.For(source.Name, "a feature (after subtracting the mean) is beyond float16's range of ±65504: use --precision tf32 or fp32");
            }
            return new DeviceMatrix(rows, dim, precision, single, halfBuffer, norms);
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

/// <summary>
/// A feature set uploaded once, unchanged (float32, row-major), and its column means computed on the device
/// on first use. Either retained by <see cref="CudaBackend.RetainInputs"/> across calls or owned by one call.
/// </summary>
internal sealed class ResidentFeatures : IDisposable
{
    private const int RowsPerSlice = 512;

    private readonly CudaSession _session;
    private DeviceBuffer<float>? _mean;

    private ResidentFeatures(CudaSession session, DeviceBuffer<float> values, int rows, int dim, string name)
    {
        _session = session;
        Values = values;
        Rows = rows;
        Dim = dim;
        Name = name;
    }

    public DeviceBuffer<float> Values { get; }
    public int Rows { get; }
    public int Dim { get; }
    public string Name { get; }

    /// <summary>
    /// One host-to-device copy of the matrix, in row blocks of at most 64 Mi values (from pageable memory),
    /// at 64-bit offsets: any N·D the device holds.
    /// </summary>
    public static ResidentFeatures Upload(CudaSession session, FeatureMatrix m)
    {
        using var range = Nvtx.Range($"upload {m.Name}");
        var values = session.Allocate<float>(m.Count);
        try
        {
            int per = Math.Max(1, Math.Min(m.RowsPerSpan, UploadChunk / m.Dim));
            for (int start = 0; start < m.Rows; start += per)
                session.Upload(m.RowRange(start, Math.Min(per, m.Rows - start)), values.At((long)start * m.Dim));
            return new ResidentFeatures(session, values, m.Rows, m.Dim, m.Name);
        }
        catch
        {
            values.Dispose();
            throw;
        }
    }

    private const int UploadChunk = 64 << 20; // floats

    /// <summary>Uploads <paramref name="rows"/> x <paramref name="dim"/> row-major values straight from the caller's span.</summary>
    public static ResidentFeatures Upload(CudaSession session, ReadOnlySpan<float> data, int rows, int dim, string name)
    {
        using var range = Nvtx.Range($"upload {name}");
        var values = session.Allocate<float>(data.Length);
        try
        {
            for (int start = 0; start < data.Length; start += UploadChunk)
                session.Upload(data.Slice(start, Math.Min(UploadChunk, data.Length - start)), values.At(start));
            return new ResidentFeatures(session, values, rows, dim, name);
        }
        catch
        {
            values.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Column means (float32, on the device), summed in float64 in a fixed order (per slice of rows, then the
    /// slices in order): the same input gives the same shift on every run.
    /// </summary>
    public DevicePointer Mean(KernelFunction partialSums, KernelFunction finish)
    {
        if (_mean is not null) return _mean.Start;
        using var range = Nvtx.Range($"column means {Name}");
        int slices = Math.Max(1, (Rows + RowsPerSlice - 1) / RowsPerSlice);
        var mean = _session.Allocate<float>(Dim);
        try
        {
            using var partial = _session.Allocate<double>((long)slices * Dim);
            if (Rows == 0)
            {
                _session.Fill32(mean.Start, 0, Dim);
            }
            else
            {
                _session.Launch(partialSums, ((Dim + 255) / 256, slices), 256, 0, new KernelArguments()
                    .Add(Values.Start).Add(Rows).Add(Dim).Add(RowsPerSlice).Add(partial.Start));
                _session.Launch(finish, ((Dim + 255) / 256, 1), 256, 0, new KernelArguments()
                    .Add(partial.Start).Add(slices).Add(Dim).Add(Rows).Add(mean.Start));
                // The partial sums are freed when this returns: wait for the kernels that read them.
                _session.Synchronize();
            }
        }
        catch
        {
            mean.Dispose();
            throw;
        }
        _mean = mean;
        return mean.Start;
    }

    /// <summary>Rows per partial sum of <see cref="Mean"/>: a row panel must start at a multiple of this.</summary>
    public const int MeanSliceRows = RowsPerSlice;

    /// <summary>
    /// Column means of a set too large to be resident, uploaded a row panel at a time (<paramref name="panelRows"/>,
    /// a multiple of <see cref="MeanSliceRows"/>): the same float64 sums per 512-row slice, combined in the same
    /// order, as <see cref="Mean"/>, so the same float32 mean bit for bit. The caller owns the returned buffer.
    /// </summary>
    public static DeviceBuffer<float> PanelMean(CudaSession session, KernelFunction partialSums, KernelFunction finish, FeatureMatrix m, int panelRows)
    {
        if (panelRows <= 0 || panelRows % RowsPerSlice != 0)
            throw new ArgumentOutOfRangeException(nameof(panelRows), $"{panelRows} is not a positive multiple of {RowsPerSlice}");
        if (m.Rows == 0) throw new ArgumentException("no rows", nameof(m));
        using var range = Nvtx.Range($"column means {m.Name} (row panels of {panelRows})");
        int dim = m.Dim;
        int slices = (m.Rows + RowsPerSlice - 1) / RowsPerSlice;
        var mean = session.Allocate<float>(dim);
        try
        {
            using var partial = session.Allocate<double>((long)slices * dim);
            for (int start = 0; start < m.Rows; start += panelRows)
            {
                int count = Math.Min(panelRows, m.Rows - start);
                using var panel = Upload(session, m.RowSlice(start, count));
                session.Launch(partialSums, ((dim + 255) / 256, (count + RowsPerSlice - 1) / RowsPerSlice), 256, 0, new KernelArguments()
                    .Add(panel.Values.Start).Add(count).Add(dim).Add(RowsPerSlice).Add(partial.At((long)(start / RowsPerSlice) * dim)));
                // Freed once the stream has run the launch that reads it (CudaSession defers frees).
            }
            session.Launch(finish, ((dim + 255) / 256, 1), 256, 0, new KernelArguments()
                .Add(partial.Start).Add(slices).Add(dim).Add(m.Rows).Add(mean.Start));
            // The partial sums are freed when this returns: wait for the kernels that read them.
            session.Synchronize();
        }
        catch
        {
            mean.Dispose();
            throw;
        }
        return mean;
    }

    public void Dispose()
    {
        Values.Dispose();
        _mean?.Dispose();
    }
}
