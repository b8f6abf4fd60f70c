using GenMetrics.Imaging;

namespace GenMetrics.Tests.Imaging;

/// <summary>
/// The preprocessor against the references of make_fixtures.py: PIL (clean), torch.nn.functional.interpolate
/// 1.13 (legacy-pytorch), a numpy float32 transcription of TF1 resize_bilinear (legacy-tensorflow).
/// </summary>
public class ResizeGoldenTests
{
    const double Tolerance = 1e-4;

    static RgbImage Load(string png) =>
        StbImageDecoder.Instance.Decode(File.ReadAllBytes(Path.Combine(ImagingFixtures.Dir("resize"), png)), png);

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var c in ImagingFixtures.Cases("resize"))
            foreach (var mode in new[] { ResizeMode.Clean, ResizeMode.LegacyPyTorch, ResizeMode.LegacyTensorFlow })
                yield return new TestCaseData(c[0], c[1], int.Parse(c[2]), int.Parse(c[3]), mode)
                    .SetName($"NetworkInputMatchesReference({c[0]}, {ImagePreprocessor.ModeName(mode)})");
    }

    [TestCaseSource(nameof(Cases))]
    public void NetworkInputMatchesReference(string caseName, string input, int width, int height, ResizeMode mode)
    {
        var image = Load(input);
        var actual = new ImagePreprocessor(mode, width, height).Process(image, input);
        var expected = ImagingFixtures.ReadFloats(Path.Combine(ImagingFixtures.Dir("resize"), $"{caseName}.{ImagePreprocessor.ModeName(mode)}.bin"));
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double maxDiff = MaxAbsDifference(actual, expected);
        TestContext.Out.WriteLine($"{caseName} {ImagePreprocessor.ModeName(mode)}: max |diff| = {maxDiff:E2}");
        // legacy-pytorch follows torch's index and weight arithmetic (issue 12): within 1e-6 of the [−1, 1] range.
        // clean is bit-identical to PIL (same coefficients, same double sums in tap order, float32 stores).
        Assert.That(maxDiff, Is.LessThanOrEqualTo(mode switch { ResizeMode.Clean => 0, ResizeMode.LegacyPyTorch => 2e-6, _ => Tolerance }));
    }

    public static IEnumerable<TestCaseData> CleanCases() =>
        ImagingFixtures.Cases("resize").Select(c => new TestCaseData(c[0], c[1], int.Parse(c[2]), int.Parse(c[3]))
            .SetName($"PilBicubicMatchesPilOn0To255Scale({c[0]})"));

    // The resampler alone, before clipping and the /128.
    [TestCaseSource(nameof(CleanCases))]
    public void PilBicubicMatchesPilOn0To255Scale(string caseName, string input, int width, int height)
    {
        var image = Load(input);
        var expected = ImagingFixtures.ReadFloats(Path.Combine(ImagingFixtures.Dir("resize"), $"{caseName}.clean-resize.bin"));
        int n = image.Width * image.Height;
        double maxDiff = 0;
        for (int c = 0; c < 3; c++)
        {
            var plane = new float[n];
            for (int i = 0; i < n; i++) plane[i] = image.Pixels[3 * i + c];
            var resized = Resampling.PilBicubic(plane, image.Width, image.Height, width, height);
            maxDiff = Math.Max(maxDiff, MaxAbsDifference(resized, expected.AsSpan(c * width * height, width * height)));
        }
        TestContext.Out.WriteLine($"{caseName} PIL bicubic (0..255): max |diff| = {maxDiff:E2}");
        Assert.That(maxDiff, Is.EqualTo(0), "bit-identical to PIL's mode-F resize");
    }

    public static IEnumerable<TestCaseData> CenterCropCases() =>
        File.ReadAllLines(Path.Combine(ImagingFixtures.Dir("resize"), "center-crop.txt")).Where(l => l.Length > 0).Select(l => l.Split(' '))
            .Select(c => new TestCaseData(c[0], c[1], int.Parse(c[2]), int.Parse(c[3])).SetName($"CenterCropMatchesPilAndTorchvisionRules({c[0]})"));

    // --resize center-crop (CLIP): torchvision's Resize(size)/CenterCrop arithmetic with PIL's bicubic.
    [TestCaseSource(nameof(CenterCropCases))]
    public void CenterCropMatchesPilAndTorchvisionRules(string caseName, string input, int width, int height)
    {
        var image = Load(input);
        var actual = new ImagePreprocessor(ResizeMode.Clean, width, height) { CenterCrop = true }.Process(image, input);
        var expected = ImagingFixtures.ReadFloats(Path.Combine(ImagingFixtures.Dir("resize"), $"{caseName}.clean-center-crop.bin"));
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        Assert.That(MaxAbsDifference(actual, expected), Is.EqualTo(0), "bit-identical to PIL, as the clean mode is");
    }

    static double MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
