using GenMetrics.Imaging;

namespace GenMetrics.Tests.Imaging;

public class ImagePreprocessorTests
{
    static RgbImage Ramp(int width, int height)
    {
        var pixels = new byte[3 * width * height];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37 % 256);
        return new RgbImage(width, height, pixels);
    }

    // At the target size every resampler is the identity, so only the normalisation of §2.2 remains.
    [TestCase(ResizeMode.Clean)]
    [TestCase(ResizeMode.LegacyPyTorch)]
    [TestCase(ResizeMode.LegacyTensorFlow)]
    [TestCase(ResizeMode.None)]
    public void SameSizeGivesTheModesNormalisationInChwOrder(ResizeMode mode)
    {
        var image = Ramp(5, 4);
        var output = new ImagePreprocessor(mode, 5, 4).Process(image, "ramp.png");
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 5; x++)
                {
                    double v = image.Pixels[(y * 5 + x) * 3 + c];
                    double expected = mode == ResizeMode.LegacyPyTorch ? 2 * (v / 255) - 1 : (v - 128) / 128;
                    Assert.That(output[(c * 4 + y) * 5 + x], Is.EqualTo(expected).Within(1e-6), $"c={c} y={y} x={x}");
                }
    }

    [Test]
    public void CleanClipsBicubicOvershootButKeepsFractions()
    {
        // A black/white step overshoots under bicubic upscaling; clean-fid clips to [0, 255] before the affine map.
        var pixels = new byte[3 * 4];
        for (int i = 6; i < 12; i++) pixels[i] = 255;
        var output = new ImagePreprocessor(ResizeMode.Clean, 11, 1).Process(new RgbImage(4, 1, pixels), "step.png");
        Assert.That(output.Min(), Is.EqualTo(-1f));
        Assert.That(output.Max(), Is.EqualTo(127f / 128f));
        Assert.That(output.Any(v => v * 128 != MathF.Round(v * 128)), Is.True, "values must not be re-quantised to integers");
        var unclipped = Resampling.PilBicubic([0f, 0f, 255f, 255f], 4, 1, 11, 1);
        Assert.That(unclipped.Min(), Is.LessThan(0f));
        Assert.That(unclipped.Max(), Is.GreaterThan(255f));
    }

    [Test]
    public void NoneModeRefusesOtherSizesNamingFileAndSizes()
    {
        var e = Assert.Throws<InputException>(() => new ImagePreprocessor(ResizeMode.None, 299).Process(Ramp(5, 4), "a/b.png"));
        Assert.That(e!.Message, Does.StartWith("a/b.png: ").And.Contain("5x4").And.Contain("299x299"));
    }

    [Test]
    public void ModeNamesRoundTrip()
    {
        foreach (var mode in Enum.GetValues<ResizeMode>())
            Assert.That(ImagePreprocessor.ParseMode(ImagePreprocessor.ModeName(mode)), Is.EqualTo(mode));
        Assert.Throws<InputException>(() => ImagePreprocessor.ParseMode("bicubic"));
    }
}
