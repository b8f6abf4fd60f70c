using System.Text.Json;
using GenMetrics.Models;
using GenMetrics.Tests.Models;

namespace GenMetrics.Tests.Imaging;

/// <summary>
/// Folders of images → decode → reference resize → a converted network (installed from a small PyTorch
/// checkpoint into a temporary model directory, as `models install --from` does) → every metric,
/// through the CLI.
/// </summary>
public class EndToEndTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("genmetrics-e2e-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>A 24-bit uncompressed BMP (rows bottom-up, padded to 4 bytes), which the decoder reads exactly.</summary>
    private static void WriteBmp(string path, int width, int height, Func<int, int, int, byte> pixel)
    {
        int stride = (width * 3 + 3) & ~3;
        int size = 54 + stride * height;
        var b = new byte[size];
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        BitConverter.TryWriteBytes(b.AsSpan(2), size);
        BitConverter.TryWriteBytes(b.AsSpan(10), 54);
        BitConverter.TryWriteBytes(b.AsSpan(14), 40);
        BitConverter.TryWriteBytes(b.AsSpan(18), width);
        BitConverter.TryWriteBytes(b.AsSpan(22), height);
        BitConverter.TryWriteBytes(b.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(b.AsSpan(28), (short)24);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                    b[54 + (height - 1 - y) * stride + x * 3 + (2 - c)] = pixel(x, y, c); // BMP stores BGR
        File.WriteAllBytes(path, b);
    }

    private string MakeFolder(string name, int count, int seed, double brightness)
    {
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        var rng = new System.Random(seed);
        for (int i = 0; i < count; i++)
        {
            double fx = rng.NextDouble() * 0.8, fy = rng.NextDouble() * 0.8, phase = rng.NextDouble() * 6;
            double[] gain = [rng.NextDouble(), rng.NextDouble(), rng.NextDouble()];
            WriteBmp(Path.Combine(folder, $"img{i:000}.bmp"), 13, 11, (x, y, c) =>
                (byte)Math.Clamp(brightness * (128 + 120 * gain[c] * Math.Sin(fx * x + fy * y + phase)), 0, 255));
        }
        return folder;
    }

    private static (int Code, JsonDocument? Json, string Err) Metrics(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(["metrics", .. args, "--json", "-", "--no-cache", "--backend", "cpu"], stdout, stderr);
        return (code, code == 0 ? JsonDocument.Parse(stdout.ToString()) : null, stderr.ToString());
    }

    [Test]
    public void FoldersOfImagesGiveEveryMetricThroughAnInstalledNetwork()
    {
        var store = new ModelStore(Path.Combine(_dir, "models"));
        store.Install(ModelStoreTests.TinyModel("tiny_zip.pt"), SyntheticWeights.FixturePath("tiny_zip.pt"));
        string onnx = store.OnnxPath("tiny");

        string real = MakeFolder("real", 40, 1, 1.0);
        string copy = Path.Combine(_dir, "copy");
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(real)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        string fake = MakeFolder("fake", 35, 2, 0.6);

        string[] common = ["--network", onnx, "--network-output", "pool", "--kid-subset-size", "30", "--mode", "clean"];
        var same = Metrics([real, copy, .. common]);
        Assert.That(same.Code, Is.EqualTo(0), same.Err);
        var s = same.Json!.RootElement;
        // The numbers and sizes; then `convention` and its resolved choices (ConventionCliTests).
        Assert.That(s.EnumerateObject().Select(p => p.Name).TakeWhile(n => n != "convention"), Is.EquivalentTo(new[]
        {
            "fid", "kid_mean", "kid_std", "precision", "recall", "prdc_precision", "prdc_recall", "density", "coverage",
            "sym_precision", "sym_recall", "comp_precision", "refined_decisions", "n_real", "n_fake", "dim", "k",
        }));
        Assert.That(s.GetProperty("image_mode").GetString(), Is.EqualTo("clean"));
        Assert.That(s.GetProperty("n_real").GetInt32(), Is.EqualTo(40));
        Assert.That(s.GetProperty("dim").GetInt32(), Is.EqualTo(4));
        // The same images on both sides: identical features, so FID is 0 up to rounding and every
        // generated sample sits on a real one (distance exactly 0, inside every ball).
        Assert.That(s.GetProperty("fid").GetDouble(), Is.EqualTo(0).Within(1e-9));
        Assert.That(s.GetProperty("precision").GetDouble(), Is.EqualTo(1));
        Assert.That(s.GetProperty("recall").GetDouble(), Is.EqualTo(1));
        Assert.That(s.GetProperty("coverage").GetDouble(), Is.EqualTo(1));

        var different = Metrics([real, fake, .. common]);
        Assert.That(different.Code, Is.EqualTo(0), different.Err);
        var d = different.Json!.RootElement;
        Assert.That(d.GetProperty("n_fake").GetInt32(), Is.EqualTo(35));
        Assert.That(d.GetProperty("fid").GetDouble(), Is.GreaterThan(1e-4));
        Assert.That(d.GetProperty("kid_mean").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void AMissingNetworkFileWithoutLayerIsNamed()
    {
        string real = MakeFolder("real", 3, 1, 1.0);
        // Without --layer the network's outputs are read, so a missing file is named as missing first
        // (ImageCommandsTests covers the one-output and several-output cases).
        var r = Metrics([real, real, "--network", Path.Combine(_dir, "x.onnx")]);
        Assert.That(r.Code, Is.EqualTo(2));
        Assert.That(r.Err, Does.Contain(Path.Combine(_dir, "x.onnx") + ": no such file"));
    }

    [Test]
    public void ImagesWithoutAnInstalledNetworkSayWhatToInstall()
    {
        string real = MakeFolder("real", 3, 1, 1.0);
        string? home = Environment.GetEnvironmentVariable("GENMETRICS_HOME");
        Environment.SetEnvironmentVariable("GENMETRICS_HOME", Path.Combine(_dir, "empty-home"));
        try
        {
            var r = Metrics([real, real, "--metrics", "fid"]);
            Assert.That(r.Code, Is.EqualTo(2));
            Assert.That(r.Err, Does.Contain("genmetrics models install inception"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("GENMETRICS_HOME", home);
        }
    }
}
