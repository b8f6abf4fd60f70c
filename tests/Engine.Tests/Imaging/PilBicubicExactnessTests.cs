using GenMetrics.Imaging;

namespace GenMetrics.Tests.Imaging;

/// <summary>
/// The SIMD clean resize against a direct transcription of Pillow's mode-F loops (Resample.c:
/// precompute_coeffs, then per output pixel ss = 0.0; ss += pixel * k[x] in tap order; store float32;
/// horizontal pass first), on sizes the PIL fixtures do not cover (256 → 299 as in `bench`, odd widths that
/// leave SIMD padding, strong downscales with wide supports). Bit-identical, not within a tolerance.
/// </summary>
public class PilBicubicExactnessTests
{
    [TestCase(256, 256, 299, 299)]
    [TestCase(299, 299, 299, 299)]
    [TestCase(37, 23, 299, 301)]
    [TestCase(640, 427, 299, 299)]
    [TestCase(1000, 17, 33, 17)]
    [TestCase(17, 1000, 17, 33)]
    [TestCase(5, 3, 1, 1)]
    [TestCase(1, 1, 19, 7)]
    [TestCase(4, 4, 5, 3)]
    [TestCase(9, 2, 4, 4)]
    public void SimdResizeIsBitIdenticalToPillowsLoop(int inWidth, int inHeight, int outWidth, int outHeight)
    {
        var rng = new Random(inWidth * 7919 + inHeight * 31 + outWidth);
        var rgb = new byte[3 * inWidth * inHeight];
        rng.NextBytes(rgb);
        var image = new RgbImage(inWidth, inHeight, rgb);
        var network = new ImagePreprocessor(ResizeMode.Clean, outWidth, outHeight).Process(image, "random");
        int outPixels = outWidth * outHeight;
        for (int c = 0; c < 3; c++)
        {
            var plane = new float[inWidth * inHeight];
            for (int i = 0; i < plane.Length; i++) plane[i] = rgb[3 * i + c];
            var expected = PillowReference(plane, inWidth, inHeight, outWidth, outHeight);
            var actual = Resampling.PilBicubic(plane, inWidth, inHeight, outWidth, outHeight);
            for (int i = 0; i < outPixels; i++)
            {
                Assert.That(BitConverter.SingleToInt32Bits(actual[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(expected[i])),
                    $"channel {c}, pixel {i}: {actual[i]:R} vs Pillow's {expected[i]:R}");
                float clipped = (Math.Clamp(expected[i], 0f, 255f) - 128f) / 128f;
                Assert.That(network[c * outPixels + i], Is.EqualTo(clipped), $"network input, channel {c}, pixel {i}");
            }
        }
    }

    static float[] PillowReference(float[] plane, int inWidth, int inHeight, int outWidth, int outHeight)
    {
        float[] current = plane;
        if (outWidth != inWidth)
        {
            var (bounds, kk, kmax) = Coefficients(inWidth, outWidth);
            var next = new float[outWidth * inHeight];
            for (int yy = 0; yy < inHeight; yy++)
                for (int xx = 0; xx < outWidth; xx++)
                {
                    double ss = 0.0;
                    for (int x = 0; x < bounds[2 * xx + 1]; x++)
                        ss += current[yy * inWidth + bounds[2 * xx] + x] * kk[xx * kmax + x];
                    next[yy * outWidth + xx] = (float)ss;
                }
            current = next;
        }
        if (outHeight != inHeight)
        {
            var (bounds, kk, kmax) = Coefficients(inHeight, outHeight);
            var next = new float[outWidth * outHeight];
            for (int yy = 0; yy < outHeight; yy++)
                for (int xx = 0; xx < outWidth; xx++)
                {
                    double ss = 0.0;
                    for (int y = 0; y < bounds[2 * yy + 1]; y++)
                        ss += current[(bounds[2 * yy] + y) * outWidth + xx] * kk[yy * kmax + y];
                    next[yy * outWidth + xx] = (float)ss;
                }
            current = next;
        }
        return current;
    }

    // precompute_coeffs for the bicubic filter (a = -0.5, support 2).
    static (int[] Bounds, double[] Kk, int Kmax) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize, filterscale = Math.Max(scale, 1.0);
        double support = 2.0 * filterscale;
        int ksize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[2 * outSize];
        var kk = new double[outSize * ksize];
        double ss = 1.0 / filterscale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            double ww = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Cubic((x + xmin - center + 0.5) * ss);
                kk[xx * ksize + x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++)
                if (ww != 0.0) kk[xx * ksize + x] /= ww;
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return (bounds, kk, ksize);
    }

    static double Cubic(double x)
    {
        const double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }
}
