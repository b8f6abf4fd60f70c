using System.Text.Json;
using GenMetrics.Cli;
using GenMetrics.Features;

namespace GenMetrics.Tests.Cli;

/// <summary>The CLI end to end through Program.Run: exit codes, one-line errors, the JSON contract.</summary>
public class CliTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "genmetrics-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Inputs.InputFixtures.Run(args);

    private string WriteFeatures(string name, int n, int d, int seed, float shift = 0f)
    {
        var rng = new Random(seed);
        var data = new float[n * d];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) + shift;
        string path = Path.Combine(_dir, name);
        FeatureFiles.WriteNpy(path, data, n, d);
        return path;
    }

    [Test]
    public void UnknownCommandExitsWithTwo()
    {
        var (code, _, err) = Run("frobnicate");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("unknown command 'frobnicate'"));
    }

    [Test]
    public void ReducedPrecisionOnTheCpuIsAnErrorNamingTheOption()
    {
        string real = WriteFeatures("real.npy", 20, 4, 1);
        string fake = WriteFeatures("fake.npy", 20, 4, 2);
        var (code, _, err) = Run("metrics", real, fake, "--backend", "cpu", "--precision", "tf32");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--precision tf32 needs the CUDA backend"));
        (code, _, err) = Run("metrics", real, fake, "--backend", "cpu", "--precision", "fp8");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("unknown precision 'fp8'"));
        (code, _, err) = Run("bench", "--backend", "cpu", "--precision", "fp16");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--precision fp16 needs the CUDA backend"));
    }

    [Test]
    public void BenchSamplesAndDimsChooseThePrecisionRecallSizes()
    {
        var (code, json, err) = Run("bench", "--backend", "cpu", "--only", "pr", "--samples", "60", "--dims", "8,12", "--repeats", "1", "--json", "-");
        Assert.That(code, Is.EqualTo(0), err);
        using var doc = JsonDocument.Parse(json);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToArray();
        var sizes = results.Select(r => r.GetProperty("sizes").GetString()).ToArray();
        // Each size on continuous and on integer data, each line with the float64 refinement's count and time.
        Assert.That(sizes, Is.EqualTo(new[] { "N=60 D=8", "N=60 D=8", "N=60 D=12", "N=60 D=12" }));
        Assert.That(results.Select(r => r.GetProperty("name").GetString()!.Contains("integer")), Is.EqualTo(new[] { false, true, false, true }));
        Assert.That(results.Select(r => r.GetProperty("note").GetString()), Has.All.Contains("refinement: "));
        (code, _, err) = Run("bench", "--dims", "8");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--dims needs --samples"));
    }

    [Test]
    public void Fp32OnTheCpuGivesThePlainResult()
    {
        string real = WriteFeatures("real.npy", 30, 4, 1);
        string fake = WriteFeatures("fake.npy", 30, 4, 2);
        var (code, json, err) = Run("metrics", real, fake, "--backend", "cpu", "--precision", "fp32", "--metrics", "pr", "--json", "-");
        Assert.That(code, Is.EqualTo(0), err);
        using var doc = JsonDocument.Parse(json);
        Assert.That(doc.RootElement.TryGetProperty("distance_precision", out _), Is.False);
        Assert.That(doc.RootElement.TryGetProperty("membership_changed", out _), Is.False);
    }

    [Test]
    public void MissingFileIsOneLineNamingTheFile()
    {
        string real = WriteFeatures("real.npy", 20, 4, 1);
        string missing = Path.Combine(_dir, "nope.npy");
        var (code, _, err) = Run("metrics", real, missing, "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("nope.npy"));
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
        Assert.That(err, Does.Not.Contain(" at "), "no stack trace");
    }

    [Test]
    public void UnknownOptionIsAUsageError()
    {
        var (code, _, err) = Run("metrics", "a.npy", "b.npy", "--frob", "1");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("unknown option --frob"));
    }

    [Test]
    public void JsonToStdoutHasExactlyTheKeysAskedFor()
    {
        string real = WriteFeatures("real.npy", 60, 8, 1);
        string fake = WriteFeatures("fake.npy", 50, 8, 2, shift: 0.2f);
        var (code, stdout, err) = Run("metrics", real, fake, "--metrics", "fid,pr,prdc,sym", "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        using var doc = JsonDocument.Parse(stdout);
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.That(keys, Is.EquivalentTo(new[]
        {
            "fid", "precision", "recall", "prdc_precision", "prdc_recall", "density", "coverage", "sym_precision", "sym_recall", "comp_precision",
            "refined_decisions", "n_real", "n_fake", "dim", "k",
            // the default convention's resolved choices for fid and the k-NN groups (ConventionCliTests)
            "convention", "cov_divisor", "comparison", "radius",
        }));
        Assert.That(doc.RootElement.GetProperty("n_real").GetInt32(), Is.EqualTo(60));
        Assert.That(doc.RootElement.GetProperty("n_fake").GetInt32(), Is.EqualTo(50));
        Assert.That(doc.RootElement.GetProperty("dim").GetInt32(), Is.EqualTo(8));
        // Without --k each group keeps its reference default: pr 3, prdc and sym 5.
        Assert.That(doc.RootElement.GetProperty("k").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 3, 5 }));
    }

    [Test]
    public void SeveralKSuffixTheKnnKeys()
    {
        string real = WriteFeatures("real.npy", 40, 3, 3);
        string fake = WriteFeatures("fake.npy", 40, 3, 4);
        var (code, stdout, err) = Run("metrics", real, fake, "--metrics", "pr", "--k", "3,5", "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        using var doc = JsonDocument.Parse(stdout);
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.That(keys, Is.EquivalentTo(new[] { "precision_k3", "recall_k3", "precision_k5", "recall_k5", "refined_decisions", "n_real", "n_fake", "dim", "k", "convention", "comparison", "radius" }));
    }

    [Test]
    public void KNotBelowNIsAClearError()
    {
        string real = WriteFeatures("real.npy", 4, 3, 5);
        string fake = WriteFeatures("fake.npy", 10, 3, 6);
        var (code, _, err) = Run("metrics", real, fake, "--metrics", "pr", "--k", "4", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("k"));
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
    }

    [Test]
    public void MismatchedDimensionsAreAClearError()
    {
        string real = WriteFeatures("real.npy", 10, 3, 5);
        string fake = WriteFeatures("fake.npy", 10, 4, 6);
        var (code, _, err) = Run("metrics", real, fake, "--metrics", "fid", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("dimension mismatch"));
    }

    [Test]
    public void StatisticsRoundTripGivesTheSameFid()
    {
        string real = WriteFeatures("real.npy", 80, 6, 7);
        string fake = WriteFeatures("fake.npy", 70, 6, 8, shift: 0.3f);
        string stats = Path.Combine(_dir, "real_stats.npz");
        var s = Run("stats", real, "-o", stats, "--backend", "cpu");
        Assert.That(s.Code, Is.EqualTo(0), s.Err);
        var fromFeatures = Run("metrics", real, fake, "--metrics", "fid", "--json", "-", "--backend", "cpu");
        var fromStats = Run("metrics", stats, fake, "--metrics", "fid", "--json", "-", "--backend", "cpu");
        Assert.That(fromFeatures.Code, Is.EqualTo(0), fromFeatures.Err);
        Assert.That(fromStats.Code, Is.EqualTo(0), fromStats.Err);
        double a = JsonDocument.Parse(fromFeatures.Out).RootElement.GetProperty("fid").GetDouble();
        double b = JsonDocument.Parse(fromStats.Out).RootElement.GetProperty("fid").GetDouble();
        Assert.That(b, Is.EqualTo(a).Within(1e-12).Percent);
        Assert.That(a, Is.GreaterThan(0));
    }

    [Test]
    public void StatisticsFileRefusesKnnMetrics()
    {
        string real = WriteFeatures("real.npy", 30, 4, 9);
        string stats = Path.Combine(_dir, "s.npz");
        Assert.That(Run("stats", real, "-o", stats).Code, Is.EqualTo(0));
        var (code, _, err) = Run("metrics", stats, real, "--metrics", "pr", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("only fid"));
    }

    [Test]
    public void RealismWritesOneScorePerGeneratedSample()
    {
        string real = WriteFeatures("real.npy", 50, 5, 10);
        string fake = WriteFeatures("fake.npy", 17, 5, 11);
        string output = Path.Combine(_dir, "scores.npy");
        var (code, _, err) = Run("realism", real, fake, "-o", output, "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        using var stream = File.OpenRead(output);
        var header = NpyHeader.Read(stream, output);
        Assert.That(header.IsFloat32, Is.True);
        Assert.That(header.Shape, Is.EqualTo(new long[] { 17 }));
        var bytes = new byte[17 * 4];
        stream.ReadExactly(bytes);
        var scores = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        var expected = GenMetrics.Metrics.Realism.Scores(
            ((FeatureFileInput)FeatureFiles.Open(real)).Load(), ((FeatureFileInput)FeatureFiles.Open(fake)).Load(),
            new GenMetrics.Compute.CpuBackend()).Scores;
        Assert.That(scores, Is.EqualTo(expected));
    }

    [Test]
    public void DemoShowsTheTruncationTradeOff()
    {
        var (code, stdout, err) = Run("demo", "--n", "1500", "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        using var doc = JsonDocument.Parse(stdout);
        var rows = doc.RootElement.EnumerateArray().ToArray();
        Assert.That(rows, Has.Length.EqualTo(8));
        double P(int i, string key) => rows[i].GetProperty(key).GetDouble();
        // psi 1.0 -> 0.3: precision rises and recall falls, as in the truncation experiments.
        Assert.That(P(7, "precision"), Is.GreaterThan(P(0, "precision")));
        Assert.That(P(7, "recall"), Is.LessThan(P(0, "recall") - 0.2));
        Assert.That(P(7, "coverage"), Is.LessThan(P(0, "coverage")));
    }
}
