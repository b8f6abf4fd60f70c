using GenMetrics.Imaging;

namespace GenMetrics.Tests.Imaging;

/// <summary>
/// legacy-pytorch on full-size photos against torch 1.13's <c>F.interpolate</c> (make_fixtures.py, photos/):
/// the source index's rounding grows with the image size, so the small resize goldens cannot show it. Each
/// case rebuilds the photo's size with zeros outside the committed input rectangle, which holds every pixel
/// the compared outputs (the bottom-right 16×16, where the index is largest) read.
/// </summary>
public class LegacyPyTorchPhotoTests
{
    // Issue 12: within 1e-6 of the range; the network input spans [−1, 1], a range of 2.
    const double Tolerance = 2e-6;
    const int Crop = 16;

    public static IEnumerable<TestCaseData> Cases() =>
        ImagingFixtures.Cases("photos").Select(c => new TestCaseData(c[0], int.Parse(c[1]), int.Parse(c[2]), int.Parse(c[3]),
            int.Parse(c[4]), int.Parse(c[5]), int.Parse(c[6])).SetName($"BottomRightMatchesTorch({c[0]}, {c[1]}x{c[2]})"));

    [TestCaseSource(nameof(Cases))]
    public void BottomRightMatchesTorch(string name, int width, int height, int inWidth, int inHeight, int regionX, int regionY)
    {
        var dir = ImagingFixtures.Dir("photos");
        var regionFile = $"{name}.{width}x{height}.region.png";
        var region = StbImageDecoder.Instance.Decode(File.ReadAllBytes(Path.Combine(dir, regionFile)), regionFile);
        Assert.That((region.Width + regionX, region.Height + regionY), Is.EqualTo((inWidth, inHeight)));
        var pixels = new byte[inWidth * inHeight * 3];
        for (int y = 0; y < region.Height; y++)
            region.Pixels.AsSpan(y * region.Width * 3, region.Width * 3).CopyTo(pixels.AsSpan(((y + regionY) * inWidth + regionX) * 3));

        var actual = new ImagePreprocessor(ResizeMode.LegacyPyTorch, width, height).Process(new RgbImage(inWidth, inHeight, pixels), name);
        var expected = ImagingFixtures.ReadFloats(Path.Combine(dir, $"{name}.{width}x{height}.legacy-pytorch.bin"));
        double max = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < Crop; y++)
                for (int x = 0; x < Crop; x++)
                {
                    float ours = actual[(c * height + height - Crop + y) * width + width - Crop + x];
                    max = Math.Max(max, Math.Abs((double)ours - expected[(c * Crop + y) * Crop + x]));
                }
        TestContext.Out.WriteLine($"{name} {inWidth}x{inHeight} -> {width}x{height}: max |ours - torch| = {max:E2}");
        Assert.That(max, Is.LessThanOrEqualTo(Tolerance));
    }

    /// <summary>Whole network inputs; needs GENMETRICS_TORCH_FULL=DIR as written by make_fixtures.py and GENMETRICS_PHOTOS=DIR.</summary>
    [Test, Explicit("measurement for docs/images.md, needs torch's full outputs and the photos")]
    public void MeasureWholePhotosAgainstTorch()
    {
        var full = Environment.GetEnvironmentVariable("GENMETRICS_TORCH_FULL");
        var photos = Environment.GetEnvironmentVariable("GENMETRICS_PHOTOS");
        if (full == null || photos == null) Assert.Ignore("set GENMETRICS_TORCH_FULL and GENMETRICS_PHOTOS");
        double worst = 0;
        foreach (var file in Directory.GetFiles(photos!).Order(StringComparer.Ordinal))
        {
            if (!(file.EndsWith(".png") || file.EndsWith(".jpg"))) continue;
            var image = StbImageDecoder.Instance.Decode(File.ReadAllBytes(file), file);
            foreach (int size in new[] { 299, 224 })
            {
                var actual = new ImagePreprocessor(ResizeMode.LegacyPyTorch, size, size).Process(image, file);
                var expected = ImagingFixtures.ReadFloats(Path.Combine(full!, $"{Path.GetFileNameWithoutExtension(file)}.{size}x{size}.bin"));
                double max = 0;
                int differing = 0;
                for (int i = 0; i < actual.Length; i++)
                {
                    double d = Math.Abs((double)actual[i] - expected[i]);
                    max = Math.Max(max, d);
                    if (d != 0) differing++;
                }
                worst = Math.Max(worst, max);
                TestContext.Out.WriteLine($"{Path.GetFileName(file)} {image.Width}x{image.Height} -> {size}: max |d| = {max:E2}, values differing {differing}/{actual.Length}");
            }
        }
        Assert.That(worst, Is.LessThanOrEqualTo(Tolerance));
    }
}
