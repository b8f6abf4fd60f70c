using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Imaging;
using GenMetrics.Metrics;
using GenMetrics.Models;
using GenMetrics.Reports;
using GenMetrics.Tests.Models;

namespace GenMetrics.Tests.Imaging;

/// <summary>
/// The typed façade (<see cref="GenerativeMetrics"/>) and the engine pipeline (<see cref="ImageFeatures"/>):
/// folders through a converted network, and the README's C# example, which is this file's
/// <see cref="ReadmeExample"/> (a test checks the README shows exactly its lines).
/// </summary>
public class FacadeTests
{
    string _dir = "";
    string _onnx = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("genmetrics-facade-").FullName;
        var store = new ModelStore(Path.Combine(_dir, "models"));
        store.Install(ModelStoreTests.TinyModel("tiny_zip.pt"), SyntheticWeights.FixturePath("tiny_zip.pt"));
        _onnx = store.OnnxPath("tiny");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static string RepositoryRoot => Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", ".."));

    string Folder(string name, int count, int seed)
    {
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var pixels = new byte[3 * 13 * 11];
            rng.NextBytes(pixels);
            PngWriter.Write(Path.Combine(folder, $"img{i:000}.png"), new RgbImage(13, 11, pixels));
        }
        return folder;
    }

    // README:begin
    static void ReadmeExample(string realFolder, string fakeZip, string network)
    {
        // Features of two image sets through one network layer (Inception pool3 in practice:
        // FeatureLayer.InceptionPool3 once `genmetrics models install inception` has run).
        var layer = new FeatureLayer(network, "pool");
        var options = new ImagePipelineOptions { Mode = ResizeMode.Clean, UseCache = false };
        FeatureMatrix real = GenerativeMetrics.Features(realFolder, layer, options);
        FeatureMatrix fake = GenerativeMetrics.Features(fakeZip, layer, options);

        GaussianStatistics realStats = GenerativeMetrics.Statistics(real);   // mu [D], sigma [D, D], float64
        double fid = GenerativeMetrics.Fid(realStats, GenerativeMetrics.Statistics(fake));
        KidResult kid = GenerativeMetrics.Kid(real, fake, subsetSize: 20);
        KnnMetricsAtK knn = GenerativeMetrics.Knn(real, fake, k: 3);
        Console.WriteLine($"{real.Rows}x{real.Dim} features; FID {fid:F4}, KID {kid.Mean:F5}, " +
                          $"precision {knn.Precision:F3}, recall {knn.Recall:F3}, coverage {knn.Coverage:F3}");
    }
    // README:end

    [Test]
    public void ReadmeExampleRuns()
    {
        string real = Folder("real", 24, 1);
        string fake = Folder("fake", 20, 2);
        string zip = Path.Combine(_dir, "fake.zip");
        System.IO.Compression.ZipFile.CreateFromDirectory(fake, zip);
        var console = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            ReadmeExample(real, zip, _onnx);
        }
        finally
        {
            Console.SetOut(console);
        }
        TestContext.Out.Write(output.ToString());
        Assert.That(output.ToString(), Does.StartWith("24x4 features; FID "));
        // The output the README shows is this run's.
        Assert.That(File.ReadAllText(Path.Combine(RepositoryRoot, "README.md")), Does.Contain(output.ToString().TrimEnd()));
    }

    [Test]
    public void ReadmeShowsTheExample()
    {
        string root = RepositoryRoot;
        var source = File.ReadAllLines(Path.Combine(root, "tests", "Engine.Tests", "Imaging", "FacadeTests.cs"));
        int begin = Array.FindIndex(source, l => l.Trim() == "// README:begin"), end = Array.FindIndex(source, l => l.Trim() == "// README:end");
        var example = source[(begin + 1)..end].Select(l => l.Length >= 4 ? l[4..] : l.TrimStart());
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        Assert.That(readme, Does.Contain(string.Join("\n", example) + "\n"));
    }

    [Test]
    public void FacadeMetricsEqualTheMetricClasses()
    {
        var layer = new FeatureLayer(_onnx, "pool");
        var options = new ImagePipelineOptions { UseCache = false };
        var real = GenerativeMetrics.Features(Folder("real", 30, 3), layer, options);
        var fake = GenerativeMetrics.Features(Folder("fake", 25, 4), layer, options);
        Assert.That((real.Rows, real.Dim, fake.Rows), Is.EqualTo((30, 4, 25)));

        using var cpu = new GenMetrics.Compute.CpuBackend();
        var a = cpu.ComputeStatistics(real, CovarianceDivisor.NMinusOne);
        var b = cpu.ComputeStatistics(fake, CovarianceDivisor.NMinusOne);
        Assert.That(GenerativeMetrics.Fid(real, fake), Is.EqualTo(Fid.FromStatistics(a, b, cpu)));
        Assert.That(GenerativeMetrics.Kid(real, fake, subsetSize: 20).Mean, Is.EqualTo(Kid.Compute(real, fake, cpu, 100, 20).Mean));
        Assert.That(GenerativeMetrics.Knn(real, fake, 5), Is.EqualTo(KnnMetrics.Compute(real, fake, [5], cpu).PerK[0]));
        Assert.That(GenerativeMetrics.Realism(real, fake).Scores, Is.EqualTo(Realism.Scores(real, fake, cpu).Scores));

        // Through the metric-input path the CLI uses: the same rows for a custom layer on both sides.
        var input = ImageFeatures.ForMetrics(Path.Combine(_dir, "real"), [MetricGroup.Fid, MetricGroup.Pr], options, layer);
        Assert.That(input.Features!.Data, Is.EqualTo(real.Data));
        Assert.That(input.KnnFeatures, Is.SameAs(input.Features));

        string stats = Path.Combine(_dir, "real.npz");
        GenerativeMetrics.SaveStatistics(GenerativeMetrics.Statistics(real), stats);
        Assert.That(GenerativeMetrics.LoadStatistics(stats).Covariance, Is.EqualTo(a.Covariance));
    }

    [Test]
    public void EachMetricGroupHasOneDeclaredLayer()
    {
        Assert.That(FeatureLayer.For(MetricGroup.Fid), Is.EqualTo(new FeatureLayer("inception", "pool3")));
        Assert.That(FeatureLayer.For(MetricGroup.Kid), Is.EqualTo(FeatureLayer.InceptionPool3));
        foreach (var g in new[] { MetricGroup.Pr, MetricGroup.Prdc, MetricGroup.Sym })
            Assert.That(FeatureLayer.For(g), Is.EqualTo(new FeatureLayer("vgg16", "fc2_relu")));
        Assert.That(FeatureLayer.ForInceptionScore, Is.EqualTo(new FeatureLayer("inception", "logits_unbiased")));
        Assert.That(FeatureLayer.Parse("VGG16", null), Is.EqualTo(FeatureLayer.Vgg16Fc2Relu));
        Assert.That(FeatureLayer.Parse("inception", "logits_unbiased"), Is.EqualTo(FeatureLayer.InceptionLogitsUnbiased));
        Assert.Throws<InputException>(() => FeatureLayer.Parse("model.onnx", null));
        Assert.Throws<InputException>(() => FeatureLayer.Parse("resnet", "fc"));
    }

    [Test]
    public void ErrorsNameTheInput()
    {
        var e = Assert.Throws<InputException>(() => GenerativeMetrics.Features(Path.Combine(_dir, "missing"), new FeatureLayer(_onnx, "pool")));
        Assert.That(e!.Message, Does.Contain("missing").And.Contain("no such file"));
        e = Assert.Throws<InputException>(() => GenerativeMetrics.Features(Folder("one", 1, 5), new FeatureLayer(_onnx, "nope")));
        Assert.That(e!.Message, Does.Contain("no output 'nope'"));
    }
}
