using GenMetrics.Evaluation;
using GenMetrics.Features;

namespace GenMetrics.Native;

/// <summary>
/// Turns a caller's genmetrics_features into the engine's inputs. The float32 copy is what the k-NN
/// metrics and KID use; float64 buffers are also streamed as they are into FID's statistics, read from
/// the caller's memory during the call only (no second full copy, nothing kept after the call).
/// </summary>
internal static unsafe class CallerFeatures
{
    /// <summary>Checks the descriptor and its shape; <paramref name="name"/> is "real" or "fake".</summary>
    public static void Validate(NativeFeatures* features, string name)
    {
        if (features == null) throw new NativeArgumentException($"{name} is NULL");
        if (features->Data == null) throw new NativeArgumentException($"{name}->data is NULL");
        if (features->DType is not ((int)NativeDType.Float32 or (int)NativeDType.Float64))
            throw new NativeArgumentException($"{name}->dtype is {features->DType} (expected GENMETRICS_FLOAT32 = 0 or GENMETRICS_FLOAT64 = 1)");
        if (features->Rows < 0 || features->Dim < 0)
            throw new NativeArgumentException($"{name} has a negative shape [{features->Rows}, {features->Dim}]");
        if (features->Rows == 0) throw InputException.For(name, "no samples (rows = 0)");
        if (features->Dim == 0) throw InputException.For(name, "no features per sample (dim = 0)");
        if (features->Rows > int.MaxValue || features->Dim > int.MaxValue)
            throw InputException.For(name, $"shape [{features->Rows}, {features->Dim}] exceeds the engine's limit of {int.MaxValue} rows and {int.MaxValue} features per row");
    }

    /// <summary>Validates both sets and that their dimensions agree.</summary>
    public static void ValidatePair(NativeFeatures* real, NativeFeatures* fake)
    {
        Validate(real, "real");
        Validate(fake, "fake");
        if (real->Dim != fake->Dim)
            throw new InputException($"dimension mismatch: real has {real->Dim} features per sample, fake has {fake->Dim}");
    }

    /// <summary>A float32 copy, checked for NaN and infinities (call <see cref="Validate"/> first).</summary>
    public static FeatureMatrix ToMatrix(NativeFeatures* features, string name)
    {
        int rows = (int)features->Rows, dim = (int)features->Dim;
        FeatureMatrix matrix;
        try
        {
            matrix = FeatureMatrix.Allocate(rows, dim, name);
        }
        catch (InsufficientMemoryException e)
        {
            throw InputException.For(name, e.Message);
        }
        // Row blocks (each under 2^31 values) at 64-bit offsets: sets beyond one array's capacity are copied too.
        int per = matrix.RowsPerSpan;
        for (int start = 0; start < rows; start += per)
        {
            var target = matrix.WritableRowRange(start, Math.Min(per, rows - start));
            long offset = (long)start * dim;
            if (features->DType == (int)NativeDType.Float32)
            {
                new ReadOnlySpan<float>((float*)features->Data + offset, target.Length).CopyTo(target);
            }
            else
            {
                var source = new ReadOnlySpan<double>((double*)features->Data + offset, target.Length);
                for (int i = 0; i < source.Length; i++) target[i] = (float)source[i];
            }
        }
        matrix.EnsureFinite();
        return matrix;
    }

    /// <summary>The evaluator's input; for float64 buffers, FID's statistics come from the exact values.</summary>
    public static MetricInput ToInput(NativeFeatures* features, string name)
    {
        var matrix = ToMatrix(features, name);
        IRowBlockSource? exact = features->DType == (int)NativeDType.Float64
            ? new CallerFloat64Rows((double*)features->Data, matrix.Rows, matrix.Dim, name)
            : null;
        return MetricInput.FromFeatures(matrix, exact);
    }

    /// <summary>
    /// float64 rows read in blocks straight from the caller's buffer. Valid only while the export that
    /// made it runs: it must not escape the call.
    /// </summary>
    private sealed class CallerFloat64Rows(double* data, int rows, int dim, string name) : IRowBlockSource
    {
        public int Rows => rows;
        public int Dim => dim;
        public string Name => name;

        public IEnumerable<RowBlock> EnumerateBlocks(int maxRows)
        {
            if (maxRows <= 0) throw new ArgumentOutOfRangeException(nameof(maxRows));
            var buffer = new double[(long)Math.Min(maxRows, rows) * dim];
            for (int start = 0; start < rows; start += maxRows)
            {
                int count = Math.Min(maxRows, rows - start);
                CopyRows(start, count, buffer);
                yield return new RowBlock(buffer, start, count, dim);
            }
        }

        private void CopyRows(int start, int count, double[] buffer) =>
            new ReadOnlySpan<double>(data + (long)start * dim, count * dim).CopyTo(buffer);
    }
}
