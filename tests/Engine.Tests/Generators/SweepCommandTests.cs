using System.Text.Json;
using GenMetrics.Features;
using GenMetrics.Generators;
using GenMetrics.Imaging;
using GenMetrics.Models;
using GenMetrics.Tests.Models;

namespace GenMetrics.Tests.Generators;

/// <summary>
/// The truncation sweep end to end: the tiny StyleGAN fixture, features from a small converted network
/// (installed from a committed checkpoint), the real set made of other seeds at psi = 1.
/// </summary>
public class SweepCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("genmetrics-sweep-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private (string Onnx, string Real) Prepare(int realCount)
    {
        var store = new ModelStore(Path.Combine(_dir, "models"));
        store.Install(ModelStoreTests.TinyModel("tiny_zip.pt"), SyntheticWeights.FixturePath("tiny_zip.pt"));
        string onnx = store.OnnxPath("tiny");
        using var generator = Generator.Load(GeneratorFixtures.StyleGan);
        using var network = OnnxFeatureNetwork.Load(onnx, "pool");
        var seeds = Enumerable.Range(100_000, realCount).Select(i => (uint)i).ToArray();
        var real = GeneratedFeatures.Extract(generator, seeds, 1.0, null, [network], ResizeMode.Clean)[0];
        string path = Path.Combine(_dir, "real.npy");
        FeatureFiles.WriteNpy(path, real.Data, real.Rows, real.Dim);
        return (onnx, path);
    }

    [Test]
    public void PrecisionRisesAndRecallFallsAsPsiShrinks()
    {
        var (onnx, real) = Prepare(400);
        string output = Path.Combine(_dir, "out");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(
            ["sweep", "--generator", GeneratorFixtures.StyleGan, "--real", real, "--psi", "1.0,0.6,0.2", "--n", "400",
             "--metrics", "fid,pr", "--network", onnx, "--network-output", "pool", "--backend", "cpu", "-o", output], stdout, stderr);
        Assert.That(code, Is.EqualTo(0), stderr.ToString());

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "sweep.json")));
        var rows = doc.RootElement.EnumerateArray().ToArray();
        Assert.That(rows.Select(r => r.GetProperty("psi").GetDouble()), Is.EqualTo(new[] { 1.0, 0.6, 0.2 }));
        double P(int i) => rows[i].GetProperty("precision").GetDouble();
        double R(int i) => rows[i].GetProperty("recall").GetDouble();
        double F(int i) => rows[i].GetProperty("fid").GetDouble();
        // Same generator, other seeds: at psi = 1 the sets are alike; truncation trades recall for precision.
        Assert.That(P(2), Is.GreaterThan(P(0)));
        Assert.That(R(2), Is.LessThan(R(0)));
        Assert.That(R(0), Is.GreaterThan(0.5));
        Assert.That(F(2), Is.GreaterThan(F(0)));
        foreach (var file in new[] { "pr.png", "pr.svg", "fid.png", "fid.svg" })
            Assert.That(new FileInfo(Path.Combine(output, file)).Length, Is.GreaterThan(100), file);
    }

    [Test]
    [Category("Gpu")]
    public void Tf32SweepReportsMembershipChangesPerPsi()
    {
        if (GenMetrics.Cuda.CudaAvailability.Probe().UnavailableReason is { } why) Assert.Ignore($"CUDA unavailable: {why}");
        var (onnx, real) = Prepare(300);
        string output = Path.Combine(_dir, "out");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(
            ["sweep", "--generator", GeneratorFixtures.StyleGan, "--real", real, "--psi", "1.0,0.5", "--n", "300",
             "--metrics", "pr", "--network", onnx, "--network-output", "pool", "--backend", "cuda", "--precision", "tf32", "--fp32-check", "-o", output], stdout, stderr);
        Assert.That(code, Is.EqualTo(0), stderr.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "sweep.json")));
        foreach (var row in doc.RootElement.EnumerateArray())
        {
            Assert.That(row.GetProperty("distance_precision").GetString(), Is.EqualTo("tf32"));
            Assert.That(row.GetProperty("membership_decisions").GetDouble(), Is.EqualTo(3 * (300 + 300)));
            Assert.That(row.GetProperty("membership_changed").GetDouble(), Is.Zero, "every decision is exact in tf32 too");
        }
        // The table keeps to its header's columns: psi, precision, recall.
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var table = lines.SkipWhile(l => !l.TrimStart().StartsWith("psi", StringComparison.Ordinal)).ToArray();
        Assert.That(table.Skip(1).Take(2).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length), Is.All.EqualTo(3), stdout.ToString());
        Assert.That(stderr.ToString(), Does.Contain("membership decisions"));
    }

    [Test]
    public void PsiOutOfRangeIsRefused()
    {
        var stderr = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(
            ["sweep", "--generator", GeneratorFixtures.StyleGan, "--real", "x.npy", "--psi", "1.0,5"], new StringWriter(), stderr);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.Contain("psi"));
    }
}

/// <summary>`genmetrics rank` on the tiny StyleGAN fixture: scores for every seed, a sorted ranking, two grids.</summary>
public class RankCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("genmetrics-rank-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void ScoresEverySampleAndDrawsTheMostAndLeastRealistic()
    {
        var store = new ModelStore(Path.Combine(_dir, "models"));
        store.Install(ModelStoreTests.TinyModel("tiny_zip.pt"), SyntheticWeights.FixturePath("tiny_zip.pt"));
        string onnx = store.OnnxPath("tiny");
        string real;
        using (var generator = Generator.Load(GeneratorFixtures.StyleGan))
        using (var network = OnnxFeatureNetwork.Load(onnx, "pool"))
        {
            var features = GeneratedFeatures.Extract(generator, Enumerable.Range(5000, 300).Select(i => (uint)i).ToArray(), 1.0, null, [network], ResizeMode.Clean)[0];
            real = Path.Combine(_dir, "real.npy");
            FeatureFiles.WriteNpy(real, features.Data, features.Rows, features.Dim);
        }
        string output = Path.Combine(_dir, "out");
        var stderr = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(
            ["rank", "--generator", GeneratorFixtures.StyleGan, "--real", real, "--n", "40", "--top", "9",
             "--network", onnx, "--network-output", "pool", "--backend", "cpu", "-o", output], new StringWriter(), stderr);
        Assert.That(code, Is.EqualTo(0), stderr.ToString());

        var lines = File.ReadAllLines(Path.Combine(output, "ranking.tsv")).Skip(1).Select(l => l.Split('\t')).ToArray();
        Assert.That(lines, Has.Length.EqualTo(40));
        var scores = lines.Select(l => double.Parse(l[2], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(scores, Is.Ordered.Descending);
        Assert.That(lines.Select(l => l[1]).Distinct().Count(), Is.EqualTo(40));

        // The same scores as the library computes from the same features.
        using (var generator = Generator.Load(GeneratorFixtures.StyleGan))
        using (var network = OnnxFeatureNetwork.Load(onnx, "pool"))
        {
            var fake = GeneratedFeatures.Extract(generator, Enumerable.Range(0, 40).Select(i => (uint)i).ToArray(), 1.0, null, [network], ResizeMode.Clean)[0];
            var expected = GenMetrics.Metrics.Realism.Scores(((FeatureFileInput)FeatureFiles.Open(real)).Load(), fake, new GenMetrics.Compute.CpuBackend()).Scores;
            Assert.That(lines[0][1], Is.EqualTo(GenMetrics.Cli.Commands.GenerateCommand.FileNameFor((uint)Array.IndexOf(expected, expected.Max()))));
            Assert.That((float)scores[0], Is.EqualTo(expected.Max()), "the TSV holds the float32 score, written to round-trip");
        }
        foreach (var grid in new[] { "most_realistic.png", "least_realistic.png" })
        {
            using var bitmap = SkiaSharp.SKBitmap.Decode(Path.Combine(output, grid));
            Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((3 * 128 + 4 * 2, 3 * 128 + 4 * 2)), grid); // 3x3 tiles, padding 2
        }
    }
}
