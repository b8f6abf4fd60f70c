using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        PilBicubicCore(plane, default, 0, inWidth, inHeight, outWidth, outHeight, output);
    }

    /// <summary>
    /// Channel <paramref name="channel"/> of interleaved 8-bit RGB (HWC), resized as the mode-F plane of its
    /// values 0..255 is (clean-fid converts each channel to float32, then resizes): the same result as
    /// <see cref="PilBicubic(ReadOnlySpan{float}, int, int, int, int, Span{float})"/>, without building the plane.
    /// </summary>
    internal static void PilBicubicRgb8(ReadOnlySpan<byte> rgb, int channel, int inWidth, int inHeight, int outWidth, int outHeight, Span<float> output)
    {
        if (inWidth <= 0 || inHeight <= 0 || outWidth <= 0 || outHeight <= 0)
            throw new ArgumentOutOfRangeException(nameof(inWidth), $"sizes must be positive: {inWidth}x{inHeight} -> {outWidth}x{outHeight}");
        if (rgb.Length != 3L * inWidth * inHeight) throw new ArgumentException($"{inWidth}x{inHeight} RGB needs {3L * inWidth * inHeight} bytes, got {rgb.Length}");
        if ((uint)channel > 2) throw new ArgumentOutOfRangeException(nameof(channel));
        if (output.Length != outWidth * outHeight) throw new ArgumentException($"output has {output.Length} values, {outWidth}x{outHeight} needs {outWidth * outHeight}");
        PilBicubicCore(default, rgb, channel, inWidth, inHeight, outWidth, outHeight, output);
    }

    // Both passes run as whole-row operations, SIMD across a row: the horizontal pass on the transposed
    // image (whose rows are the input's columns), the vertical pass on its result transposed back. Each
    // output value is still Pillow's sum for that pixel: ss = 0.0, then ss += (double)pixel · coefficient
    // over its taps in ascending order, a separate multiply and add (never fused), one rounding to float32
    // at the end of each pass — the same operations in the same order in every lane, so the result is
    // bit-identical to Pillow's per-pixel loop (ResizeGoldenTests, PilBicubicExactnessTests). The source is
    // a float plane, or channel `channel` of interleaved RGB8 when `rgb` is not empty. Rows are padded to a
    // multiple of 16 floats (the padding is zero) so that the SIMD loop needs no remainder.
    static unsafe void PilBicubicCore(ReadOnlySpan<float> plane, ReadOnlySpan<byte> rgb, int channel,
        int inWidth, int inHeight, int outWidth, int outHeight, Span<float> output)
    {
        bool horizontal = outWidth != inWidth, vertical = outHeight != inHeight;
        bool fromRgb = !rgb.IsEmpty;
        int columnStride = RoundUp(inHeight), rowStride = RoundUp(outWidth);
        var scratch = Scratch.Current;
        // `rows`: the vertical pass's input, inHeight rows of outWidth values (stride rowStride).
        float[] rows = scratch.Get(0, (long)inHeight * rowStride);
        fixed (float* planeBase = plane)
        fixed (byte* rgbBase = rgb)
        fixed (float* rowsBase = rows)
        {
            if (horizontal)
            {
                var axis = PilAxis.For(inWidth, outWidth);
                float[] columns = scratch.Get(1, (long)inWidth * columnStride);
                float[] resized = scratch.Get(2, (long)outWidth * columnStride);
                fixed (float* columnsBase = columns, resizedBase = resized)
                {
                    if (fromRgb && Avx2.IsSupported)
                    {
                        // Channel → float plane with SIMD byte shuffles, then the 8 × 8 register transpose.
                        float[] channelPlane = scratch.Get(3, (long)inWidth * inHeight);
                        fixed (float* channelBase = channelPlane)
                        {
                            DeinterleaveRgb8(rgbBase, channel, inWidth, inHeight, channelBase);
                            Transpose(channelBase, inWidth, inHeight, inWidth, columnsBase, columnStride);
                        }
                    }
                    else if (fromRgb) TransposeRgb8(rgbBase, channel, inWidth, inHeight, columnsBase, columnStride);
                    else Transpose(planeBase, inWidth, inHeight, inWidth, columnsBase, columnStride);
                    RowPass(columnsBase, columnStride, resizedBase, columnStride, columnStride, axis);
                    Transpose(resizedBase, inHeight, outWidth, columnStride, rowsBase, rowStride);
                }
            }
            else
            {
                for (int y = 0; y < inHeight; y++)
                {
                    float* target = rowsBase + (long)y * rowStride;
                    if (fromRgb)
                    {
                        byte* source = rgbBase + 3L * y * inWidth + channel;
                        for (int x = 0; x < inWidth; x++) target[x] = source[3 * x];
                    }
                    else new ReadOnlySpan<float>(planeBase + (long)y * inWidth, inWidth).CopyTo(new Span<float>(target, inWidth));
                    new Span<float>(target + outWidth, rowStride - outWidth).Clear();
                }
            }
            float* result = rowsBase;
            if (vertical)
            {
                var axis = PilAxis.For(inHeight, outHeight);
                float[] last = scratch.Get(1, rowStride);
                fixed (float* outputBase = output, lastBase = last)
                {
                    // Straight into the output: row j's padded store (rowStride values) spills into the rows
                    // after it, which are written later; only the rows whose spill would leave the output go
                    // through scratch.
                    long room = (long)outHeight * outWidth - rowStride;
                    int direct = room < 0 ? 0 : (int)Math.Min(room / outWidth + 1, outHeight);
                    RowPass(rowsBase, rowStride, outputBase, outWidth, rowStride, axis, 0, direct);
                    for (int j = direct; j < outHeight; j++)
                    {
                        RowPass(rowsBase, rowStride, lastBase - (long)j * outWidth, outWidth, rowStride, axis, j, j + 1);
                        new ReadOnlySpan<float>(lastBase, outWidth).CopyTo(output.Slice(j * outWidth, outWidth));
                    }
                }
                return;
            }
            for (int y = 0; y < outHeight; y++)
                new ReadOnlySpan<float>(result + (long)y * rowStride, outWidth).CopyTo(output.Slice(y * outWidth, outWidth));
        }
    }

    static int RoundUp(int n) => (n + 15) & ~15;

    // target[x * targetStride + y] = source[y * sourceStride + x] for y < height, x < width; the padding of
    // each target row (height .. RoundUp(height)) is zeroed. Blocks of 16 source rows keep both sides in cache.
    static unsafe void Transpose(float* source, int width, int height, int sourceStride, float* target, int targetStride)
    {
        int fullHeight = 0;
        if (Avx.IsSupported)
        {
            // 8 × 8 blocks through registers (unpack, shuffle, swap halves); what is left over below.
            fullHeight = height & ~7;
            int fullWidth = width & ~7;
            for (int y0 = 0; y0 < fullHeight; y0 += 8)
            {
                float* block = source + (long)y0 * sourceStride;
                for (int x0 = 0; x0 < fullWidth; x0 += 8)
                    Compute.Gemm.SgemmPacking.Transpose8x8(block + x0, sourceStride, null, target + (long)x0 * targetStride + y0, targetStride);
                for (int x = fullWidth; x < width; x++)
                    for (int i = 0; i < 8; i++) target[(long)x * targetStride + y0 + i] = block[(long)i * sourceStride + x];
            }
        }
        for (int y0 = fullHeight; y0 < height; y0 += 16)
        {
            int rowsInBlock = Math.Min(16, height - y0);
            for (int x = 0; x < width; x++)
            {
                float* column = target + (long)x * targetStride + y0;
                float* from = source + (long)y0 * sourceStride + x;
                for (int i = 0; i < rowsInBlock; i++) column[i] = from[(long)i * sourceStride];
            }
        }
        int padded = RoundUp(height);
        if (padded > height)
            for (int x = 0; x < width; x++) new Span<float>(target + (long)x * targetStride + height, padded - height).Clear();
    }

    // pshufb masks that gather channel c of 16 RGB pixels from each of their three 16-byte thirds (0x80: zero).
    static readonly byte[][] ChannelMasks = Enumerable.Range(0, 3).Select(c =>
        Enumerable.Range(0, 3).SelectMany(third => Enumerable.Range(0, 16).Select(i =>
        {
            int at = 3 * i + c - 16 * third;
            return (byte)(at is >= 0 and < 16 ? at : 0x80);
        })).ToArray()).ToArray();

    // plane[y * width + x] = rgb[3 (y * width + x) + channel], 16 pixels per step.
    static unsafe void DeinterleaveRgb8(byte* rgb, int channel, int width, int height, float* plane)
    {
        fixed (byte* masks = ChannelMasks[channel])
        fixed (float* byteValues = ByteValues)
        {
            var m0 = Sse2.LoadVector128(masks);
            var m1 = Sse2.LoadVector128(masks + 16);
            var m2 = Sse2.LoadVector128(masks + 32);
            for (int y = 0; y < height; y++)
            {
                byte* row = rgb + 3L * y * width;
                float* target = plane + (long)y * width;
                int x = 0;
                for (; x + 16 <= width; x += 16)
                {
                    byte* p = row + 3 * x;
                    var values = Sse2.Or(Sse2.Or(Ssse3.Shuffle(Sse2.LoadVector128(p), m0), Ssse3.Shuffle(Sse2.LoadVector128(p + 16), m1)),
                        Ssse3.Shuffle(Sse2.LoadVector128(p + 32), m2));
                    Avx.Store(target + x, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(values)));
                    Avx.Store(target + x + 8, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(values, 8))));
                }
                for (; x < width; x++) target[x] = byteValues[row[3 * x + channel]];
            }
        }
    }

    static readonly float[] ByteValues = Enumerable.Range(0, 256).Select(v => (float)v).ToArray();

    static unsafe void TransposeRgb8(byte* rgb, int channel, int width, int height, float* target, int targetStride)
    {
        fixed (float* byteValues = ByteValues)
        {
            for (int y0 = 0; y0 < height; y0 += 16)
            {
                int rowsInBlock = Math.Min(16, height - y0);
                for (int x = 0; x < width; x++)
                {
                    float* column = target + (long)x * targetStride + y0;
                    byte* from = rgb + 3L * ((long)y0 * width + x) + channel;
                    // A table load instead of an int → float conversion (cvtsi2ss also waits on its target register).
                    for (int i = 0; i < rowsInBlock; i++) column[i] = byteValues[from[3L * i * width]];
                }
            }
        }
        int padded = RoundUp(height);
        if (padded > height)
            for (int x = 0; x < width; x++) new Span<float>(target + (long)x * targetStride + height, padded - height).Clear();
    }

    // target row j = Σ_k w[j][k] · source row (start[j] + k), k ascending, per lane: sum = 0.0, then
    // sum += widen(value) * w (multiply, then add), then narrow to float32. `length` is a multiple of 16.
    static unsafe void RowPass(float* source, int sourceStride, float* target, int targetStride, int length, PilAxis axis) =>
        RowPass(source, sourceStride, target, targetStride, length, axis, 0, axis.Start.Length);

    // Output rows firstRow .. endRow − 1 only (row j is written at target + j · targetStride).
    static unsafe void RowPass(float* source, int sourceStride, float* target, int targetStride, int length, PilAxis axis, int firstRow, int endRow)
    {
        fixed (double* weightBase = axis.Weights)
        {
            for (int j = firstRow; j < endRow; j++)
            {
                float* first = source + (long)axis.Start[j] * sourceStride;
                double* w = weightBase + (long)j * axis.Stride;
                int n = axis.Count[j];
                float* output = target + (long)j * targetStride;
                if (Vector512.IsHardwareAccelerated)
                {
                    for (int x = 0; x < length; x += 16)
                    {
                        var low = Vector512<double>.Zero;
                        var high = Vector512<double>.Zero;
                        float* p = first + x;
                        for (int k = 0; k < n; k++, p += sourceStride)
                        {
                            var (l, h) = Vector512.Widen(Vector512.Load(p));
                            var wk = Vector512.Create(w[k]);
                            low = Vector512.Add(low, Vector512.Multiply(l, wk));
                            high = Vector512.Add(high, Vector512.Multiply(h, wk));
                        }
                        Vector512.Narrow(low, high).Store(output + x);
                    }
                }
                else if (Vector256.IsHardwareAccelerated)
                {
                    for (int x = 0; x < length; x += 8)
                    {
                        var low = Vector256<double>.Zero;
                        var high = Vector256<double>.Zero;
                        float* p = first + x;
                        for (int k = 0; k < n; k++, p += sourceStride)
                        {
                            var (l, h) = Vector256.Widen(Vector256.Load(p));
                            var wk = Vector256.Create(w[k]);
                            low = Vector256.Add(low, Vector256.Multiply(l, wk));
                            high = Vector256.Add(high, Vector256.Multiply(h, wk));
                        }
                        Vector256.Narrow(low, high).Store(output + x);
                    }
                }
                else
                {
                    for (int x = 0; x < length; x++)
                    {
                        double sum = 0;
                        float* p = first + x;
                        for (int k = 0; k < n; k++, p += sourceStride) sum += *p * w[k];
                        output[x] = (float)sum;
                    }
                }
            }
        }
    }

    // Per-thread scratch planes, grown as needed and kept: no allocation per image once warm.
    sealed class Scratch
    {
        [ThreadStatic] static Scratch? current;
        readonly float[][] buffers = [[], [], [], []];

        public static Scratch Current => current ??= new Scratch();

        public float[] Get(int slot, long length)
        {
            if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(length), $"image of {length} values is too large to resize");
            if (buffers[slot].Length < length) buffers[slot] = GC.AllocateUninitializedArray<float>((int)length);
            return buffers[slot];
        }
    }

    // Pillow's coefficient table of one axis, computed once per (input, output) size and shared.
    sealed class PilAxis
    {
        static readonly System.Collections.Concurrent.ConcurrentDictionary<(int In, int Out), PilAxis> Cache = new();

        public required int[] Start { get; init; }
        public required int[] Count { get; init; }
        public required double[] Weights { get; init; }
        public required int Stride { get; init; }

        public static PilAxis For(int inSize, int outSize)
        {
            if (Cache.TryGetValue((inSize, outSize), out var axis)) return axis;
            if (Cache.Count >= 256) Cache.Clear(); // a folder of many different sizes: keep the cache small
            var (start, count, weights, stride) = PilCoefficients(inSize, outSize);
            axis = new PilAxis { Start = start, Count = count, Weights = weights, Stride = stride };
            Cache[(inSize, outSize)] = axis;
            return axis;
        }
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
        double inverseScale = 1.0 / filterScale;
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
                // Pillow multiplies by ss = 1.0 / filterscale (not a division): the same rounding as Pillow's.
                double w = PilBicubicKernel((k + lo - center + 0.5) * inverseScale);
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
