namespace GenMetrics.Imaging;

/// <summary>
/// The three resampling kernels of metrics-spec §2.1, on one float32 plane (row-major, height × width).
/// Each reproduces a reference library's arithmetic, including its precision, because the published
/// FIDs depend on it: PIL accumulates in double and stores float32; PyTorch and TF1 work in float32.
/// </summary>
public static class Resampling
{
    /// <summary>
    /// Pillow's BICUBIC resize of a mode-F image (a = −0.5, support widened by the downscale factor, so it
    /// antialiases): horizontal pass then vertical, each skipped when that axis keeps its size.
    /// </summary>
    public static float[] PilBicubic(ReadOnlySpan<float> plane, int inWidth, int inHeight, int outWidth, int outHeight)
    {
        var output = new float[outWidth * outHeight];
        PilBicubic(plane, inWidth, inHeight, outWidth, outHeight, output);
        return output;
    }

    /// <summary><see cref="PilBicubic(ReadOnlySpan{float}, int, int, int, int)"/> into <paramref name="output"/> (outHeight × outWidth).</summary>
    public static void PilBicubic(ReadOnlySpan<float> plane, int inWidth, int inHeight, int outWidth, int outHeight, Span<float> output)
    {
        CheckSizes(plane, inWidth, inHeight, outWidth, outHeight, output);
        bool horizontal = outWidth != inWidth, vertical = outHeight != inHeight;
        if (!horizontal && !vertical)
        {
            plane.CopyTo(output);
            return;
        }
        float[]? pooled = null;
        try
        {
            ReadOnlySpan<float> afterHorizontal = plane;
            if (horizontal)
            {
                var (start, count, weights, stride) = PilCoefficients(inWidth, outWidth);
                Span<float> target = output;
                if (vertical)
                {
                    pooled = System.Buffers.ArrayPool<float>.Shared.Rent(outWidth * inHeight);
                    target = pooled.AsSpan(0, outWidth * inHeight);
                }
                HorizontalPass(plane, inWidth, inHeight, target, outWidth, start, count, weights, stride);
                afterHorizontal = target;
            }
            if (vertical)
            {
                int width = outWidth;
                var (start, count, weights, stride) = PilCoefficients(inHeight, outHeight);
                // Row-wise accumulation: the same terms added in the same order (k ascending) as Pillow's
                // per-pixel loop, but reading whole rows instead of striding down columns.
                var sums = new double[width];
                for (int y = 0; y < outHeight; y++)
                {
                    Array.Clear(sums);
                    int w0 = y * stride;
                    for (int k = 0; k < count[y]; k++)
                        AccumulateRow(sums, afterHorizontal.Slice((start[y] + k) * width, width), weights[w0 + k]);
                    var target = output.Slice(y * width, width);
                    for (int x = 0; x < target.Length; x++) target[x] = (float)sums[x];
                }
            }
        }
        finally
        {
            if (pooled != null) System.Buffers.ArrayPool<float>.Shared.Return(pooled);
        }
    }

    // Few taps per output (5 when upscaling), so per-tap bounds checks and span slicing would dominate.
    static unsafe void HorizontalPass(ReadOnlySpan<float> input, int inWidth, int rows, Span<float> output, int outWidth,
        int[] start, int[] count, double[] weights, int stride)
    {
        fixed (float* inBase = input, outBase = output)
        fixed (double* weightBase = weights)
        fixed (int* startBase = start, countBase = count)
        {
            int y = 0;
            // Four rows at once: four independent addition chains hide the add latency; each output
            // still sums its own taps in Pillow's order.
            for (; y + 4 <= rows; y += 4)
            {
                float* row0 = inBase + (long)y * inWidth;
                float* row1 = row0 + inWidth, row2 = row1 + inWidth, row3 = row2 + inWidth;
                float* target0 = outBase + (long)y * outWidth;
                for (int x = 0; x < outWidth; x++)
                {
                    int first = startBase[x];
                    double* w = weightBase + (long)x * stride;
                    int n = countBase[x];
                    double sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
                    for (int k = 0; k < n; k++)
                    {
                        double wk = w[k];
                        sum0 += row0[first + k] * wk;
                        sum1 += row1[first + k] * wk;
                        sum2 += row2[first + k] * wk;
                        sum3 += row3[first + k] * wk;
                    }
                    target0[x] = (float)sum0;
                    target0[x + outWidth] = (float)sum1;
                    target0[x + 2 * outWidth] = (float)sum2;
                    target0[x + 3 * outWidth] = (float)sum3;
                }
            }
            for (; y < rows; y++)
            {
                float* row = inBase + (long)y * inWidth;
                float* target = outBase + (long)y * outWidth;
                for (int x = 0; x < outWidth; x++)
                {
                    float* taps = row + startBase[x];
                    double* w = weightBase + (long)x * stride;
                    int n = countBase[x];
                    double sum = 0;
                    for (int k = 0; k < n; k++) sum += taps[k] * w[k];
                    target[x] = (float)sum;
                }
            }
        }
    }

    // sums[x] += row[x] * w with float→double widening. Lane-wise multiply then add (never fused), so the
    // SIMD body rounds exactly like the scalar remainder and like Pillow's C loop.
    static void AccumulateRow(Span<double> sums, ReadOnlySpan<float> row, double w)
    {
        int x = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && row.Length >= System.Numerics.Vector<float>.Count)
        {
            var weight = new System.Numerics.Vector<double>(w);
            int floatLanes = System.Numerics.Vector<float>.Count, doubleLanes = System.Numerics.Vector<double>.Count;
            for (; x <= row.Length - floatLanes; x += floatLanes)
            {
                System.Numerics.Vector.Widen(new System.Numerics.Vector<float>(row.Slice(x)), out var low, out var high);
                var sumLow = new System.Numerics.Vector<double>(sums.Slice(x)) + low * weight;
                var sumHigh = new System.Numerics.Vector<double>(sums.Slice(x + doubleLanes)) + high * weight;
                sumLow.CopyTo(sums.Slice(x));
                sumHigh.CopyTo(sums.Slice(x + doubleLanes));
            }
        }
        for (; x < row.Length; x++) sums[x] += row[x] * w;
    }

    static double PilBicubicKernel(double t)
    {
        const double a = -0.5;
        if (t < 0) t = -t;
        if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
        if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
        return 0;
    }

    // Pillow's precompute_coeffs: taps that fall outside the image are dropped and the remaining weights
    // renormalised (no edge padding); (int) casts truncate toward zero as in C.
    static (int[] Start, int[] Count, double[] Weights, int Stride) PilCoefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 2.0 * filterScale;
        int stride = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new double[outSize * stride];
        for (int j = 0; j < outSize; j++)
        {
            double center = (j + 0.5) * scale;
            int lo = Math.Max(0, (int)(center - support + 0.5));
            int hi = Math.Min(inSize, (int)(center + support + 0.5));
            int n = hi - lo;
            double total = 0;
            for (int k = 0; k < n; k++)
            {
                double w = PilBicubicKernel((k + lo - center + 0.5) / filterScale);
                weights[j * stride + k] = w;
                total += w;
            }
            if (total != 0)
                for (int k = 0; k < n; k++) weights[j * stride + k] /= total;
            start[j] = lo;
            count[j] = n;
        }
        return (start, count, weights, stride);
    }

    /// <summary>PyTorch <c>F.interpolate(mode='bilinear', align_corners=False, antialias=False)</c>, float32.</summary>
    public static float[] PyTorchBilinear(ReadOnlySpan<float> plane, int inWidth, int inHeight, int outWidth, int outHeight)
    {
        var output = new float[outWidth * outHeight];
        PyTorchBilinear(plane, inWidth, inHeight, outWidth, outHeight, output);
        return output;
    }

    public static void PyTorchBilinear(ReadOnlySpan<float> plane, int inWidth, int inHeight, int outWidth, int outHeight, Span<float> output)
    {
        CheckSizes(plane, inWidth, inHeight, outWidth, outHeight, output);
        var (x0, x1, lx0, lx1) = PyTorchIndices(inWidth, outWidth);
        var (y0, y1, ly0, ly1) = PyTorchIndices(inHeight, outHeight);
        for (int y = 0; y < outHeight; y++)
        {
            int r0 = y0[y] * inWidth, r1 = y1[y] * inWidth;
            for (int x = 0; x < outWidth; x++)
            {
                // Same association as PyTorch's separable loop: the inner (width) interpolation first.
                float top = lx0[x] * plane[r0 + x0[x]] + lx1[x] * plane[r0 + x1[x]];
                float bottom = lx0[x] * plane[r1 + x0[x]] + lx1[x] * plane[r1 + x1[x]];
                output[y * outWidth + x] = ly0[y] * top + ly1[y] * bottom;
            }
        }
    }

    // As torch 1.13's CPU kernel computes them: the scale is a float32 quotient (compute_scales_value), but
    // the source position scale·(j + 0.5) − 0.5 and its fraction stay in double; only the weight is rounded
    // to float32 (λ1 = (float)(position − index), λ0 = 1 − λ1 in float32). The index truncates, the position
    // is clamped at 0, an axis that keeps its size is copied. Established by probing torch 1.13.1 with
    // indicator inputs (every weight equal for 640→299, 427→299, 752→224, 512→299); rounding the position
    // to float32 instead, as before, moved it by up to an ulp of the index: 3e-5 on a 640-pixel axis.
    static (int[] I0, int[] I1, float[] L0, float[] L1) PyTorchIndices(int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        var i0 = new int[outSize];
        var i1 = new int[outSize];
        var l0 = new float[outSize];
        var l1 = new float[outSize];
        for (int j = 0; j < outSize; j++)
        {
            if (inSize == outSize)
            {
                i0[j] = i1[j] = j;
                l0[j] = 1f;
                l1[j] = 0f;
                continue;
            }
            double s = Math.Max(0.0, scale * (j + 0.5) - 0.5);
            int lo = (int)s;
            float lambda = (float)Math.Clamp(s - lo, 0.0, 1.0);
            i0[j] = lo;
            i1[j] = lo < inSize - 1 ? lo + 1 : lo;
            l1[j] = lambda;
            l0[j] = 1f - lambda;
        }
        return (i0, i1, l0, l1);
    }

    /// <summary>TF1 <c>tf.image.resize_bilinear</c> (align_corners=False, no half-pixel centres), float32.</summary>
    public static float[] Tf1Bilinear(ReadOnlySpan<float> plane, int inWidth, int inHeight, int outWidth, int outHeight)
    {
        var output = new float[outWidth * outHeight];
        Tf1Bilinear(plane, inWidth, inHeight, outWidth, outHeight, output);
        return output;
    }

    public static void Tf1Bilinear(ReadOnlySpan<float> plane, int inWidth, int inHeight, int outWidth, int outHeight, Span<float> output)
    {
        CheckSizes(plane, inWidth, inHeight, outWidth, outHeight, output);
        var (x0, x1, fx) = Tf1Indices(inWidth, outWidth);
        var (y0, y1, fy) = Tf1Indices(inHeight, outHeight);
        for (int y = 0; y < outHeight; y++)
        {
            int r0 = y0[y] * inWidth, r1 = y1[y] * inWidth;
            for (int x = 0; x < outWidth; x++)
            {
                float topLeft = plane[r0 + x0[x]], topRight = plane[r0 + x1[x]];
                float bottomLeft = plane[r1 + x0[x]], bottomRight = plane[r1 + x1[x]];
                float top = topLeft + (topRight - topLeft) * fx[x];
                float bottom = bottomLeft + (bottomRight - bottomLeft) * fx[x];
                output[y * outWidth + x] = top + (bottom - top) * fy[y];
            }
        }
    }

    static (int[] I0, int[] I1, float[] Fraction) Tf1Indices(int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        var i0 = new int[outSize];
        var i1 = new int[outSize];
        var f = new float[outSize];
        for (int j = 0; j < outSize; j++)
        {
            float s = j * scale;
            int lo = (int)MathF.Floor(s);
            i0[j] = lo;
            i1[j] = Math.Min(lo + 1, inSize - 1);
            f[j] = s - lo;
        }
        return (i0, i1, f);
    }

    static void CheckSizes(ReadOnlySpan<float> plane, int inWidth, int inHeight, int outWidth, int outHeight, Span<float> output)
    {
        if (output.Length != outWidth * outHeight)
            throw new ArgumentException($"output has {output.Length} values, {outWidth}x{outHeight} needs {outWidth * outHeight}");
        if (inWidth <= 0 || inHeight <= 0 || outWidth <= 0 || outHeight <= 0)
            throw new ArgumentOutOfRangeException(nameof(inWidth), $"sizes must be positive: {inWidth}x{inHeight} -> {outWidth}x{outHeight}");
        if (plane.Length != inWidth * inHeight)
            throw new ArgumentException($"plane has {plane.Length} values, {inWidth}x{inHeight} needs {inWidth * inHeight}");
    }
}
