using GenMetrics.Generators;

namespace GenMetrics.Tests.Generators;

public class ImageQuantizerTests
{
    private static byte Quantise(float x, double low = -1, double high = 1)
    {
        var v = new[] { x };
        ImageQuantizer.ToPixelScale(v, low, high);
        return ImageQuantizer.ToUInt8(v[0]);
    }

    // x·127.5 + 128, clamped to [0, 255], truncated: -1 -> 0.5 -> 0, 0 -> 128, 0.5 -> 191.75, -0.5 -> 64.25.
    [TestCase(-1f, 0)]
    [TestCase(1f, 255)]
    [TestCase(0f, 128)]
    [TestCase(0.5f, 191)]
    [TestCase(-0.5f, 64)]
    [TestCase(-2f, 0)]
    [TestCase(3f, 255)]
    [TestCase(0.99f, 254)]   // 254.225
    [TestCase(-0.999f, 0)]   // 0.6275
    [TestCase(-0.99f, 1)]    // 1.775
    public void MinusOneToOneAsStyleGan2Ada(float x, int expected) => Assert.That(Quantise(x), Is.EqualTo(expected));

    // [0, 1]: x·255 + 0.5 truncated, i.e. round half up.
    [TestCase(0f, 0)]
    [TestCase(1f, 255)]
    [TestCase(0.5f, 128)]
    [TestCase(0.25f, 64)]    // 63.75 + 0.5
    [TestCase(0.2f, 51)]     // 51.0 + 0.5
    public void ZeroToOneRoundsHalfUp(float x, int expected) => Assert.That(Quantise(x, 0, 1), Is.EqualTo(expected));

    [Test]
    public void NanIsZero() => Assert.That(ImageQuantizer.ToUInt8(float.NaN), Is.EqualTo(0));

    /// <summary>
    /// StyleGAN2-ADA's literal float32 formula over many x, including x whose x·127.5 + 128 falls within a few
    /// ulps of an integer, where a different rounding order would flip the byte.
    /// </summary>
    [Test]
    public void AgreesWithTheLiteralFormulaNearEveryBoundary()
    {
        var xs = new List<float>();
        var rng = new Random(11);
        for (int i = 0; i < 100_000; i++) xs.Add((float)(rng.NextDouble() * 2.2 - 1.1));
        for (int k = 0; k <= 256; k++)
        {
            float x = (float)((k - 128) / 127.5);
            float below = x, above = x;
            for (int step = 0; step < 4; step++)
            {
                xs.Add(below = MathF.BitDecrement(below));
                xs.Add(above = MathF.BitIncrement(above));
            }
            xs.Add(x);
        }
        var values = xs.ToArray();
        ImageQuantizer.ToPixelScale(values, -1, 1);
        for (int i = 0; i < xs.Count; i++)
        {
            float product = xs[i] * 127.5f;
            float shifted = product + 128f;
            byte expected = (byte)Math.Clamp(shifted, 0f, 255f);
            Assert.That(ImageQuantizer.ToUInt8(values[i]), Is.EqualTo(expected), $"x = {xs[i]:R}");
        }
    }
}
