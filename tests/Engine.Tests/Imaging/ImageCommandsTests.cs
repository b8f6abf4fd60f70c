using System.Text.Json;
using GenMetrics.Features;
using GenMetrics.Imaging;
using GenMetrics.Metrics;
using GenMetrics.Models;
using GenMetrics.Reports;
using GenMetrics.Tests.Models;

namespace GenMetrics.Tests.Imaging;

/// <summary>
/// `features`, `stats`, `is` and `realism` on folders and zips of images, through the tests' tiny converted
/// network; each compared with the façade on the same images and the metric classes.
/// </summary>
public class ImageCommandsTests
{
    string _dir = "";
    string _onnx = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("genmetrics-imgcmd-").FullName;
        var store = new ModelStore(Path.Combine(_dir, "models"));
        store.Install(ModelStoreTests.TinyModel("tiny_zip.pt"), SyntheticWeights.FixturePath("tiny_zip.pt"));
        _onnx = store.OnnxPath("tiny");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    string Folder(string name, int count, int seed)
    {
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var pixels = new byte[3 * 20 * 17];
            rng.NextBytes(pixels);
            PngWriter.Write(Path.Combine(folder, $"img{i:000}.png"), new RgbImage(20, 17, pixels));
        }
        return folder;
    }

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    FeatureMatrix Expected(string folder, string layer, ResizeMode mode = ResizeMode.Clean) =>
        GenerativeMetrics.Features(folder, new FeatureLayer(_onnx, layer), new ImagePipelineOptions { Mode = mode, UseCache = false });

    [Test]
    public void FeaturesWritesTheFolderFeaturesAsNpy()
    {
        string real = Folder("real", 12, 1);
        string output = Path.Combine(_dir, "real.npy");
        var r = Run("features", real, "-o", output, "--network", _onnx, "--layer", "pool", "--mode", "legacy-pytorch", "--no-cache");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("12 x 4 float32"));
        var written = GenerativeMetrics.LoadFeatures(output);
        var expected = Expected(real, "pool", ResizeMode.LegacyPyTorch);
        Assert.That((written.Rows, written.Dim), Is.EqualTo((12, 4)));
        Assert.That(written.Data, Is.EqualTo(expected.Data));
        // The mode matters: clean gives other features.
        Assert.That(Expected(real, "pool").Data, Is.Not.EqualTo(expected.Data));
    }

    /// <summary>stats with --network names that network on stderr, not the convention's Inception pool3.</summary>
    [Test]
    public void StatsNamesTheNetworkItUsed()
    {
        string real = Folder("real", 6, 1);
        var r = Run("stats", real, "-o", Path.Combine(_dir, "s.npz"), "--network", _onnx, "--layer", "pool", "--no-cache", "--backend", "cpu");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("mu [4]"));
        Assert.That(r.Err, Does.Match(@"feature_network\s+tiny.onnx:pool \(--network").And.Not.Contain("inception-v3"));
    }

    /// <summary>
    /// --network FILE.onnx without --layer: a one-output network uses that output and says so; a network with
    /// several outputs is refused with their names.
    /// </summary>
    [Test]
    public void AnOnnxNetworkWithoutLayerUsesItsOnlyOutputOrListsThem()
    {
        string real = Folder("real", 3, 1);
        var several = Run("features", real, "-o", Path.Combine(_dir, "a.npy"), "--network", _onnx, "--no-cache");
        Assert.That(several.Code, Is.EqualTo(2), several.Err);
        Assert.That(several.Err, Does.Contain("outputs (pool, fc)").Or.Contain("outputs (fc, pool)"));
        Assert.That(several.Err, Does.Contain("--layer NAME"));
        string flatten = Path.Combine(ImagingFixtures.Dir("networks"), "flatten4x4.onnx");
        var single = Run("features", real, "-o", Path.Combine(_dir, "b.npy"), "--network", flatten, "--no-cache");
        Assert.That(single.Code, Is.EqualTo(0), single.Err);
        Assert.That(single.Out, Does.Contain("3 x 48 float32 (flatten4x4.onnx values (its only output)"));
        var stats = Run("stats", real, "-o", Path.Combine(_dir, "b.npz"), "--network", flatten, "--no-cache", "--backend", "cpu");
        Assert.That(stats.Code, Is.EqualTo(0), stats.Err);
        Assert.That(stats.Err, Does.Match(@"feature_network\s+flatten4x4.onnx:values \(its only output\) \(--network"));
    }

    /// <summary>Random bytes named .zip as an image archive: one line in plain words, not the runtime's message.</summary>
    [Test]
    public void ACorruptZipOfImagesIsOneLineInPlainWords()
    {
        string bad = Path.Combine(_dir, "bad.zip");
        var random = new byte[4096];
        new Random(5).NextBytes(random);
        "PK\x03\x04"u8.CopyTo(random);
        File.WriteAllBytes(bad, random);
        var r = Run("features", bad, "-o", Path.Combine(_dir, "f.npy"), "--network", _onnx, "--layer", "pool", "--no-cache");
        Assert.That(r.Code, Is.EqualTo(2), r.Err);
        Assert.That(r.Err, Does.Contain(bad + ": not a readable zip archive (").And.Not.Contain("Central Directory").And.Not.Contain("End of"));

        // A zip whose central directory entry is damaged (found, then unreadable): still one line, no stack trace.
        string damaged = Path.Combine(_dir, "cd.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(damaged, System.IO.Compression.ZipArchiveMode.Create))
            using (var w = new StreamWriter(zip.CreateEntry("a.png").Open())) w.Write(new string('x', 100));
        var bytes = File.ReadAllBytes(damaged);
        int cd = bytes.AsSpan().LastIndexOf("PK\x01\x02"u8);
        bytes.AsSpan(cd + 5, 35).Fill(0xff);
        File.WriteAllBytes(damaged, bytes);
        r = Run("features", damaged, "-o", Path.Combine(_dir, "f.npy"), "--network", _onnx, "--layer", "pool", "--no-cache");
        Assert.That(r.Code, Is.EqualTo(2), r.Err);
        Assert.That(r.Err, Does.Not.Contain("   at ").And.Contain(damaged + ": not a readable zip archive (its central directory is damaged)"));
    }

    [Test]
    public void ListStandsInForAFolderInTheListedOrder()
    {
        string real = Folder("real", 6, 1);
        string fake = Folder("fake", 5, 2);
        // Reversed order: the rows must follow the list, not the sorted folder.
        string list = Path.Combine(_dir, "real.txt");
        File.WriteAllLines(list, Enumerable.Range(0, 6).Reverse().Select(i => $"real/img{i:000}.png"));
        string output = Path.Combine(_dir, "listed.npy");
        var r = Run("features", "--list", list, "-o", output, "--network", _onnx, "--layer", "pool", "--no-cache");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        var listed = GenerativeMetrics.LoadFeatures(output);
        var sorted = Expected(real, "pool");
        for (int i = 0; i < 6; i++) Assert.That(listed.Row(i).ToArray(), Is.EqualTo(sorted.Row(5 - i).ToArray()));

        // Two-input commands: a list fills the place it is written in, before or after a positional input.
        var folders = Run("metrics", real, fake, "--metrics", "fid", "--network", _onnx, "--layer", "pool", "--no-cache", "--json", "-");
        var mixed = Run("metrics", "--list", list, fake, "--metrics", "fid", "--network", _onnx, "--layer", "pool", "--no-cache", "--json", "-");
        var swapped = Run("metrics", fake, "--list", list, "--metrics", "fid", "--network", _onnx, "--layer", "pool", "--no-cache", "--json", "-");
        Assert.That(folders.Code + mixed.Code + swapped.Code, Is.EqualTo(0), folders.Err + mixed.Err + swapped.Err);
        double Fid(string json) => JsonDocument.Parse(json).RootElement.GetProperty("fid").GetDouble();
        Assert.That(Fid(mixed.Out), Is.EqualTo(Fid(folders.Out)).Within(1e-6 * Math.Max(1, Fid(folders.Out))));
        Assert.That(Fid(swapped.Out), Is.EqualTo(Fid(folders.Out)).Within(1e-6 * Math.Max(1, Fid(folders.Out))));

        var tooMany = Run("features", real, "--list", list, "-o", output, "--network", _onnx, "--layer", "pool");
        Assert.That((tooMany.Code, tooMany.Err), Is.EqualTo((2, tooMany.Err)));
        Assert.That(tooMany.Err, Does.Contain("too many inputs"));
        var missing = Run("stats", "-o", Path.Combine(_dir, "s.npz"));
        Assert.That(missing.Code, Is.EqualTo(2));
        Assert.That(missing.Err, Does.Contain("missing FEATURES|IMAGES"));

        File.AppendAllLines(list, ["real/none.png"]);
        var bad = Run("is", "--list", list, "--network", _onnx, "--layer", "fc", "--no-cache");
        Assert.That(bad.Code, Is.EqualTo(2));
        Assert.That(bad.Err, Does.Contain($"{list}:7: no such file real/none.png"));
    }

    [Test]
    public void FeaturesOfAGeneratorEqualTheFeaturesOfItsGeneratedPngs()
    {
        string generator = GenMetrics.Tests.Generators.GeneratorFixtures.SinglePsi;
        // The independent path: `generate` writes the quantised samples as PNGs (seed0003.png, ...), then `features DIR`.
        string pngs = Path.Combine(_dir, "pngs");
        foreach (var psi in new[] { "1", "0.7" })
        {
            var generated = Run("generate", "--generator", generator, "--seeds", "3,7,10-12", "--psi", psi, "-o", pngs);
            Assert.That(generated.Code, Is.EqualTo(0), generated.Err);
            string fromPngs = Path.Combine(_dir, $"pngs{psi}.npy"), fromGenerator = Path.Combine(_dir, $"gen{psi}.npy");
            var a = Run("features", pngs, "-o", fromPngs, "--network", _onnx, "--layer", "pool", "--no-cache");
            var b = Run("features", "--generator", generator, "--seeds", "3,7,10-12", "--psi", psi, "-o", fromGenerator, "--network", _onnx, "--layer", "pool");
            Assert.That(a.Code + b.Code, Is.EqualTo(0), a.Err + b.Err);
            Assert.That(b.Out, Does.Contain("5 x 4 float32"));
            var expected = GenerativeMetrics.LoadFeatures(fromPngs);
            var actual = GenerativeMetrics.LoadFeatures(fromGenerator);
            Assert.That(actual.Data, Is.EqualTo(expected.Data));
        }
        // Truncation changes the samples, so the two psi runs differ.
        Assert.That(GenerativeMetrics.LoadFeatures(Path.Combine(_dir, "gen1.npy")).Data,
            Is.Not.EqualTo(GenerativeMetrics.LoadFeatures(Path.Combine(_dir, "gen0.7.npy")).Data));

        var noSeeds = Run("features", "--generator", generator, "-o", Path.Combine(_dir, "x.npy"), "--network", _onnx, "--layer", "pool");
        Assert.That((noSeeds.Code, noSeeds.Err.Contains("--seeds")), Is.EqualTo((2, true)), noSeeds.Err);
        var both = Run("features", pngs, "--generator", generator, "--seeds", "1", "-o", Path.Combine(_dir, "x.npy"), "--network", _onnx, "--layer", "pool");
        Assert.That((both.Code, both.Err.Contains("not both")), Is.EqualTo((2, true)), both.Err);
        var seedsAlone = Run("features", pngs, "--seeds", "1", "-o", Path.Combine(_dir, "x.npy"), "--network", _onnx, "--layer", "pool");
        Assert.That((seedsAlone.Code, seedsAlone.Err.Contains("--seeds needs --generator")), Is.EqualTo((2, true)), seedsAlone.Err);
    }

    [Test]
    public void StatsOfAZipOfImages()
    {
        string real = Folder("real", 15, 2);
        string zip = Path.Combine(_dir, "real.zip");
        System.IO.Compression.ZipFile.CreateFromDirectory(real, zip);
        string output = Path.Combine(_dir, "real_stats.npz");
        var r = Run("stats", zip, "-o", output, "--network", _onnx, "--network-output", "pool", "--no-cache", "--backend", "cpu");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        var stats = GenerativeMetrics.LoadStatistics(output);
        var expected = GenerativeMetrics.Statistics(Expected(real, "pool"));
        Assert.That(stats.Mean, Is.EqualTo(expected.Mean));
        Assert.That(stats.Covariance, Is.EqualTo(expected.Covariance));
    }

    [Test]
    public void InceptionScoreFromImages()
    {
        string fake = Folder("fake", 20, 3);
        var r = Run("is", fake, "--network", _onnx, "--layer", "fc", "--splits", "2", "--json", "-", "--no-cache");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        var json = JsonDocument.Parse(r.Out).RootElement;
        var expected = InceptionScore.Compute(Expected(fake, "fc"), 2);
        Assert.That(json.GetProperty("is_mean").GetDouble(), Is.EqualTo(expected.Mean));
        Assert.That(json.GetProperty("n").GetInt32(), Is.EqualTo(20));
    }

    [Test]
    public void RealismFromFolders()
    {
        string real = Folder("real", 16, 4), fake = Folder("fake", 9, 5);
        string output = Path.Combine(_dir, "scores.npy");
        var r = Run("realism", real, fake, "-o", output, "--network", _onnx, "--layer", "pool", "--no-cache", "--backend", "cpu");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        // A 1-D float32 .npy, format 1.0: the header length is the uint16 at byte 8.
        var bytes = File.ReadAllBytes(output);
        int start = 10 + BitConverter.ToUInt16(bytes, 8);
        var scores = new float[(bytes.Length - start) / 4];
        Buffer.BlockCopy(bytes, start, scores, 0, scores.Length * 4);
        var expected = GenerativeMetrics.Realism(Expected(real, "pool"), Expected(fake, "pool")).Scores;
        Assert.That(scores, Is.EqualTo(expected));
    }

    [Test]
    public void BenchImagesRunsEveryStepOnJpegAndPng()
    {
        var r = Run("bench", "--only", "images", "--quick", "--repeats", "1", "--json", "-");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        var names = JsonDocument.Parse(r.Out).RootElement.GetProperty("results").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToArray();
        Assert.That(names, Is.EqualTo(new[]
        {
            "images-jpeg-decode", "images-jpeg-decode+clean-299", "images-jpeg-decode+legacy-pytorch-299", "images-jpeg-clean-299-only",
            "images-png-decode", "images-png-decode+clean-299", "images-png-decode+legacy-pytorch-299", "images-png-clean-299-only",
        }));
        var missing = Run("bench", "--only", "images", "--images", Path.Combine(_dir, "none"), "--quick");
        Assert.That(missing.Code, Is.EqualTo(2));
        Assert.That(missing.Err, Does.Contain("make_bench_images.py"));
    }

    [Test]
    public void BadInputsAreOneLineAndExit2()
    {
        var missing = Run("features", Path.Combine(_dir, "nothing"), "-o", Path.Combine(_dir, "x.npy"));
        Assert.That(missing.Code, Is.EqualTo(2));
        Assert.That(missing.Err.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(missing.Err, Does.Contain("nothing").And.Contain("no such file or folder"));

        string real = Folder("real", 3, 6);
        var noLayer = Run("features", real, "-o", Path.Combine(_dir, "x.npy"), "--network", _onnx);
        Assert.That(noLayer.Code, Is.EqualTo(2));
        Assert.That(noLayer.Err, Does.Contain("--layer NAME"));

        var badLayer = Run("features", real, "-o", Path.Combine(_dir, "x.npy"), "--network", _onnx, "--layer", "nope", "--no-cache");
        Assert.That(badLayer.Code, Is.EqualTo(2));
        Assert.That(badLayer.Err, Does.Contain("no output 'nope'"));
        Assert.That(File.Exists(Path.Combine(_dir, "x.npy")), Is.False);
    }
}
