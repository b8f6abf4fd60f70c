using GenMetrics.Imaging;
using GenMetrics.Reports;

namespace GenMetrics.Tests.Imaging;

/// <summary>
/// --normalize through a real ONNX network: Fixtures/imaging/networks/flatten4x4.onnx (make_flatten_onnx.py)
/// returns its [3, 4, 4] input flattened, so the features are exactly the values the pipeline fed it, and
/// each map is checked against its definition evaluated in float64 on the image's bytes.
/// </summary>
public class NormalizationTests
{
    string _dir = "";
    static string Network => Path.Combine(ImagingFixtures.Dir("networks"), "flatten4x4.onnx");

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("genmetrics-norm-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    List<RgbImage> Images(int count, int size = 4)
    {
        var rng = new Random(11);
        var images = new List<RgbImage>();
        for (int i = 0; i < count; i++)
        {
            var pixels = new byte[3 * size * size];
            rng.NextBytes(pixels);
            pixels[0] = 0;
            pixels[1] = 255;
            images.Add(new RgbImage(size, size, pixels));
            PngWriter.Write(Path.Combine(_dir, $"{i}.png"), images[^1]);
        }
        return images;
    }

    static readonly double[] ImageNetMean = [0.485, 0.456, 0.406], ImageNetStd = [0.229, 0.224, 0.225];
    static readonly double[] ClipMean = [0.48145466, 0.4578275, 0.40821073], ClipStd = [0.26862954, 0.26130258, 0.27577711];

    public static IEnumerable<TestCaseData> Maps()
    {
        yield return new TestCaseData("2x-1", (Func<double, int, double>)((x, c) => 2 * x / 255 - 1));
        yield return new TestCaseData("tf", (Func<double, int, double>)((x, c) => (x - 128) / 128));
        yield return new TestCaseData("none", (Func<double, int, double>)((x, c) => x));
        yield return new TestCaseData("imagenet", (Func<double, int, double>)((x, c) => (x / 255 - ImageNetMean[c]) / ImageNetStd[c]));
        yield return new TestCaseData("clip", (Func<double, int, double>)((x, c) => (x / 255 - ClipMean[c]) / ClipStd[c]));
        yield return new TestCaseData("mean=0.5,0.25,0:std=0.5,2,0.125", (Func<double, int, double>)((x, c) => (x / 255 - new[] { 0.5, 0.25, 0 }[c]) / new[] { 0.5, 2, 0.125 }[c]));
    }

    [TestCaseSource(nameof(Maps))]
    public void FeaturesAreTheMapOfThePixels(string name, Func<double, int, double> map)
    {
        var images = Images(5);
        var features = GenerativeMetrics.Features(_dir, new FeatureLayer(Network, "values"),
            new ImagePipelineOptions { Mode = ResizeMode.None, Normalization = InputNormalization.Parse(name), UseCache = false });
        Assert.That((features.Rows, features.Dim), Is.EqualTo((5, 48)));
        double max = 0;
        for (int n = 0; n < 5; n++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 16; p++)
                {
                    double expected = map(images[n].Pixels[3 * p + c], c);
                    double actual = features[n, c * 16 + p];
                    max = Math.Max(max, Math.Abs(actual - expected) / Math.Max(1, Math.Abs(expected)));
                }
        TestContext.Out.WriteLine($"{name}: max relative difference from the float64 definition {max:E2}");
        Assert.That(max, Is.LessThan(1e-6));
    }

    [Test]
    public void TheModesOwnMapsAreBitForBitTheDefaults()
    {
        var images = Images(3, size: 9);
        foreach (var (mode, map) in new[] { (ResizeMode.LegacyPyTorch, InputNormalization.TwoXMinusOne), (ResizeMode.Clean, InputNormalization.Tf), (ResizeMode.LegacyTensorFlow, InputNormalization.Tf) })
            foreach (var image in images)
            {
                var plain = new ImagePreprocessor(mode, 4, 4).Process(image, "x");
                var mapped = new ImagePreprocessor(mode, 4, 4) { Normalization = map }.Process(image, "x");
                Assert.That(mapped, Is.EqualTo(plain), $"{mode} {map}");
            }
    }

    [Test]
    public void TheCacheKeepsNormalisationsApart()
    {
        Images(4);
        var cache = Path.Combine(_dir, "..", Path.GetFileName(_dir) + "-cache");
        try
        {
            var layer = new FeatureLayer(Network, "values");
            var a = GenerativeMetrics.Features(_dir, layer, new ImagePipelineOptions { Mode = ResizeMode.None, Normalization = InputNormalization.ImageNet, CacheDirectory = cache });
            var b = GenerativeMetrics.Features(_dir, layer, new ImagePipelineOptions { Mode = ResizeMode.None, Normalization = InputNormalization.Clip, CacheDirectory = cache });
            Assert.That(b.Data, Is.Not.EqualTo(a.Data));
            Assert.That(Directory.GetFiles(cache, "*.npy"), Has.Length.EqualTo(2));
        }
        finally
        {
            if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        }
    }

    [TestCase("mean=1,2:std=1,1,1", "three values")]
    [TestCase("mean=0,0,0:std=1,0,1", "positive")]
    [TestCase("mean=0,x,0:std=1,1,1", "'x' is not a finite number")]
    [TestCase("zscore", "unknown normalisation")]
    public void BadSpecificationsAreInputErrors(string text, string message)
    {
        var e = Assert.Throws<InputException>(() => InputNormalization.Parse(text));
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void FeaturesCommandTakesNormalize()
    {
        Images(3);
        string output = Path.Combine(_dir, "..", Path.GetFileName(_dir) + ".npy");
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int code = GenMetrics.Cli.Program.Run(["features", _dir, "-o", output, "--network", Network, "--layer", "values", "--mode", "none", "--normalize", "clip", "--no-cache"], stdout, stderr);
            Assert.That(code, Is.EqualTo(0), stderr.ToString());
            var expected = GenerativeMetrics.Features(_dir, new FeatureLayer(Network, "values"),
                new ImagePipelineOptions { Mode = ResizeMode.None, Normalization = InputNormalization.Clip, UseCache = false });
            Assert.That(GenerativeMetrics.LoadFeatures(output).Data, Is.EqualTo(expected.Data));
        }
        finally
        {
            File.Delete(output);
        }
    }
}
