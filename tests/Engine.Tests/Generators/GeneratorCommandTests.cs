using System.Text.Json;
using GenMetrics.Features;
using GenMetrics.Generators;
using GenMetrics.Imaging;
using GenMetrics.Models;
using GenMetrics.Tests.Models;

namespace GenMetrics.Tests.Generators;

/// <summary>
/// The generator commands' rough edges of issue 14, each from its own small input: the tiny generator
/// fixtures, and for the sweep and rank a small network installed from a committed checkpoint.
/// </summary>
public class GeneratorCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("genmetrics-gencmd-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static byte[] Pixels(string png)
    {
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        return bitmap.Pixels.SelectMany(p => new[] { p.Red, p.Green, p.Blue }).ToArray();
    }

    /// <summary>A tiny feature network and real features (other seeds of the StyleGAN fixture at psi 1).</summary>
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
    public void GenerateWritesRgbPngsWithoutAnAlphaChannel()
    {
        string output = Path.Combine(_dir, "out");
        var (code, _, err) = Run("generate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3", "-o", output);
        Assert.That(code, Is.EqualTo(0), err);
        var bytes = File.ReadAllBytes(Path.Combine(output, "seed0003.png"));
        // IHDR: 8-byte signature, length, "IHDR", width, height, bit depth (byte 24), colour type (byte 25).
        Assert.That(System.Text.Encoding.ASCII.GetString(bytes, 12, 4), Is.EqualTo("IHDR"));
        Assert.That(bytes[24], Is.EqualTo(8), "bit depth");
        Assert.That(bytes[25], Is.EqualTo(2), "colour type 2 is RGB; 6 would be RGBA");
    }

    [Test]
    public void RepeatedSeedsAreWrittenOnceAndCountedAsFiles()
    {
        string output = Path.Combine(_dir, "out");
        var (code, stdout, err) = Run("generate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3,3", "-o", output);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(Directory.GetFiles(output), Has.Length.EqualTo(1));
        Assert.That(stdout, Does.Contain("wrote 1 image of 8x8"));
        Assert.That(err, Does.Contain("1 repeated seed(s) left out"));
        // A grid shows a repeated seed twice, as asked.
        (code, stdout, err) = Run("generate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3,3", "--grid", "-o", output);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("2 seeds in 2 columns x 1 rows"));
    }

    [Test]
    public void StyleMixSaysWroteOnce()
    {
        var (code, stdout, err) = Run("style-mix", "--generator", GeneratorFixtures.StyleGan, "--row-seeds", "1", "--col-seeds", "2", "--col-styles", "2-3", "-o", Path.Combine(_dir, "mix.png"));
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout.Split('\n').Count(l => l.StartsWith("wrote ", StringComparison.Ordinal)), Is.EqualTo(1), stdout);
    }

    [Test]
    public void CutoffZeroTruncatesNoLayerInEveryGeneratorCommand()
    {
        // psi 0.5 on no layer is psi 1: the images of generate, style-mix and interpolate equal the untruncated ones.
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        Assert.That(Run("generate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3", "-o", a).Code, Is.EqualTo(0));
        var r = Run("generate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3", "--psi", "0.5", "--truncation-cutoff", "0", "-o", b);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(Pixels(Path.Combine(b, "seed0003.png")), Is.EqualTo(Pixels(Path.Combine(a, "seed0003.png"))));

        string mixA = Path.Combine(_dir, "mixa.png"), mixB = Path.Combine(_dir, "mixb.png"), mixC = Path.Combine(_dir, "mixc.png");
        Assert.That(Run("style-mix", "--generator", GeneratorFixtures.StyleGan, "--row-seeds", "1,2", "--col-seeds", "5", "--col-styles", "2-3", "-o", mixA).Code, Is.EqualTo(0));
        r = Run("style-mix", "--generator", GeneratorFixtures.StyleGan, "--row-seeds", "1,2", "--col-seeds", "5", "--col-styles", "2-3", "--psi", "0.5", "--truncation-cutoff", "0", "-o", mixB);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(Pixels(mixB), Is.EqualTo(Pixels(mixA)));
        // ... and a cutoff that truncates some layers changes the figure.
        Assert.That(Run("style-mix", "--generator", GeneratorFixtures.StyleGan, "--row-seeds", "1,2", "--col-seeds", "5", "--col-styles", "2-3", "--psi", "0.5", "--truncation-cutoff", "2", "-o", mixC).Code, Is.EqualTo(0));
        Assert.That(Pixels(mixC), Is.Not.EqualTo(Pixels(mixA)));

        string fa = Path.Combine(_dir, "fa"), fb = Path.Combine(_dir, "fb");
        Assert.That(Run("interpolate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3,7", "--steps", "2", "--space", "w", "-o", fa).Code, Is.EqualTo(0));
        r = Run("interpolate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3,7", "--steps", "2", "--space", "w", "--psi", "0.5", "--truncation-cutoff", "0", "-o", fb);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        for (int f = 0; f < 3; f++)
            Assert.That(Pixels(Path.Combine(fb, $"frame{f:D4}.png")), Is.EqualTo(Pixels(Path.Combine(fa, $"frame{f:D4}.png"))), $"frame {f}");
    }

    [Test]
    public void SweepAcceptsCutoffZeroAndDrawsDensityOnItsOwnChart()
    {
        var (onnx, real) = Prepare(60);
        string output = Path.Combine(_dir, "out");
        var (code, _, err) = Run("sweep", "--generator", GeneratorFixtures.StyleGan, "--real", real, "--psi", "1.0,0.5", "--truncation-cutoff", "0",
            "--n", "60", "--metrics", "pr,prdc", "--network", onnx, "--network-output", "pool", "--backend", "cpu", "-o", output);
        Assert.That(code, Is.EqualTo(0), err);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "sweep.json")));
        var rows = doc.RootElement.EnumerateArray().ToArray();
        // No layer truncated: psi 0.5 gives the psi 1.0 samples, so the same numbers.
        foreach (var key in new[] { "precision", "recall", "density", "coverage" })
            Assert.That(rows[1].GetProperty(key).GetDouble(), Is.EqualTo(rows[0].GetProperty(key).GetDouble()), key);
        Assert.That(File.Exists(Path.Combine(output, "density.png")) && File.Exists(Path.Combine(output, "density.svg")));
        string pr = File.ReadAllText(Path.Combine(output, "pr.svg"));
        Assert.That(pr, Does.Contain(">precision<").And.Contain(">coverage<"));
        Assert.That(pr, Does.Not.Contain("density"), "density has its own chart");
        Assert.That(File.ReadAllText(Path.Combine(output, "density.svg")), Does.Contain(">density<"));
    }

    [Test]
    public void SweepRefusesAPsiTheGeneratorCannotTakeBeforeGeneratingAnything()
    {
        // The single fixture has no psi input: psi 0.5 is refused before the psi 1.0 row is generated (the real
        // set is not even read, so a missing one does not hide the problem).
        var (code, stdout, err) = Run("sweep", "--generator", GeneratorFixtures.Single, "--real", Path.Combine(_dir, "nope.npy"), "--psi", "1.0,0.5", "--n", "10");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("psi 0.5 asked for, but the generator has no psi input"));
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
        Assert.That(stdout, Is.Empty, "no row was computed");
    }

    [Test]
    public void RankTakesATruncationCutoff()
    {
        var (onnx, real) = Prepare(30);
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        string[] common = ["rank", "--generator", GeneratorFixtures.StyleGan, "--real", real, "--n", "12", "--top", "4", "--network", onnx, "--network-output", "pool", "--backend", "cpu"];
        var r = Run([.. common, "-o", a]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        r = Run([.. common, "--psi", "0.5", "--truncation-cutoff", "0", "-o", b]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(File.ReadAllText(Path.Combine(b, "ranking.tsv")), Is.EqualTo(File.ReadAllText(Path.Combine(a, "ranking.tsv"))));
    }

    private static string ErrorFor(string json) =>
        Assert.Throws<InputException>(() => GeneratorDescription.Parse(System.Text.Encoding.UTF8.GetBytes(json), "g.json"))!.Message;

    [Test]
    public void DescriptionErrorsNameTheKeyAndNoDotNetType()
    {
        string unknown = ErrorFor("""{ "kind": "single", "model": "x.onnx", "modle": "y.onnx" }""");
        Assert.That(unknown, Does.Contain("unknown key \"modle\"").And.Contain("model"));
        string wrongType = ErrorFor("""{ "kind": "stylegan", "mapping": "m.onnx", "synthesis": "s.onnx", "num_layers": "four" }""");
        Assert.That(wrongType, Does.Contain("\"num_layers\" must be a whole number"));
        string wrongString = ErrorFor("""{ "kind": 1 }""");
        Assert.That(wrongString, Does.Contain("\"kind\" must be a string"));
        foreach (var message in new[] { unknown, wrongType, wrongString })
        {
            Assert.That(message, Does.Not.Contain("GenMetrics.").And.Not.Contain("System."), message);
            Assert.That(message, Does.StartWith("g.json: "));
        }
    }

    [Test]
    public void TrailingCommaInADescriptionIsAnErrorWithItsLine()
    {
        string message = ErrorFor("{\n  \"kind\": \"single\",\n  \"model\": \"x.onnx\",\n}\n");
        Assert.That(message, Does.Contain("trailing comma").And.Contain("line 4"));
        Assert.That(message, Does.Not.Contain("reader options"));
        // Comments stay allowed.
        Assert.That(GeneratorDescription.Parse("{ \"kind\": \"single\", /* the graph */ \"model\": \"x.onnx\" }"u8, "g.json").Model, Is.EqualTo("x.onnx"));
    }
}
