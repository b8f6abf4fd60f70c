using System.Text.Json;
using GenMetrics.Cli;
using GenMetrics.Evaluation;
using GenMetrics.Features;

namespace GenMetrics.Tests.Cli;

/// <summary>`--convention` through the CLI: what it computes, what it prints on stderr and in the JSON, overrides, `list --conventions`.</summary>
public class ConventionCliTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "genmetrics-conv-" + Guid.NewGuid().ToString("N"));
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
    public void PrdcConventionGivesPrdcsFourNumbers()
    {
        string real = WriteFeatures("real.npy", 60, 6, 1);
        string fake = WriteFeatures("fake.npy", 50, 6, 2, shift: 0.2f);
        var (code, stdout, err) = Run("metrics", real, fake, "--convention", "prdc", "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var keys = root.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.That(keys.Take(4), Is.EqualTo(new[] { "prdc_precision", "prdc_recall", "density", "coverage" }));
        Assert.That(root.GetProperty("k").GetInt32(), Is.EqualTo(5));
        Assert.That(root.GetProperty("convention").GetString(), Is.EqualTo("prdc"));
        Assert.That(root.GetProperty("comparison").GetString(), Is.EqualTo("<"));
        Assert.That(root.GetProperty("squared_distances").GetBoolean(), Is.False);
        Assert.That(keys, Does.Not.Contain("fid").And.Not.Contain("precision"));

        // The same numbers as the engine's prdc group at k = 5 without a convention.
        var (_, plain, _) = Run("metrics", real, fake, "--metrics", "prdc", "--k", "5", "--json", "-", "--backend", "cpu");
        using var plainDoc = JsonDocument.Parse(plain);
        foreach (var key in MetricRegistry.Get(MetricGroup.Prdc).Keys)
            Assert.That(root.GetProperty(key).GetDouble(), Is.EqualTo(plainDoc.RootElement.GetProperty(key).GetDouble()), key);
    }

    [Test]
    public void ChoicesArePrintedOnStderrAndExplicitOptionsSayTheyOverride()
    {
        string real = WriteFeatures("real.npy", 40, 4, 3);
        string fake = WriteFeatures("fake.npy", 40, 4, 4);
        var (code, stdout, err) = Run("metrics", real, fake, "--convention", "stylegan2-ada", "--seed", "7", "--metrics", "fid,kid",
            "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Does.Contain("--seed 7 overrides stylegan2-ada's seed 2020"));
        Assert.That(err, Does.Contain("--metrics fid,kid overrides stylegan2-ada's metrics fid,kid,pr"));
        Assert.That(err, Does.Match(@"convention\s+stylegan2-ada"));
        Assert.That(err, Does.Match(@"cov_divisor\s+n\b"));
        Assert.That(err, Does.Match(@"seed\s+7\s+\(option; stylegan2-ada: 2020\)"));
        Assert.That(err, Does.Contain("kid: the tool draws its subsets from an unseeded global generator"));
        using var doc = JsonDocument.Parse(stdout);
        Assert.That(doc.RootElement.GetProperty("seed").GetInt32(), Is.EqualTo(7));
        Assert.That(doc.RootElement.GetProperty("cov_divisor").GetString(), Is.EqualTo("n"));
        Assert.That(doc.RootElement.GetProperty("kid_small_sets").GetString(), Is.EqualTo("shrink"));
        Assert.That(doc.RootElement.TryGetProperty("comparison", out _), Is.False, "no k-NN group was computed");
    }

    [Test]
    public void ExplicitCovDivisorOverridesTheConvention()
    {
        string real = WriteFeatures("real.npy", 30, 3, 5);
        string fake = WriteFeatures("fake.npy", 30, 3, 6, shift: 0.1f);
        var (_, ada, _) = Run("metrics", real, fake, "--convention", "stylegan2-ada", "--metrics", "fid", "--json", "-", "--backend", "cpu");
        var (_, overridden, err) = Run("metrics", real, fake, "--convention", "stylegan2-ada", "--metrics", "fid", "--cov-divisor", "n-1", "--json", "-", "--backend", "cpu");
        var (_, pytorchFid, _) = Run("metrics", real, fake, "--convention", "pytorch-fid", "--json", "-", "--backend", "cpu");
        double Fid(string json) => JsonDocument.Parse(json).RootElement.GetProperty("fid").GetDouble();
        Assert.That(Fid(overridden), Is.EqualTo(Fid(pytorchFid)));
        Assert.That(Fid(ada), Is.Not.EqualTo(Fid(pytorchFid)));
        Assert.That(err, Does.Contain("--cov-divisor n-1 overrides stylegan2-ada's cov_divisor n"));
    }

    [Test]
    public void UnknownConventionIsAUsageMistakeAndExit2()
    {
        string real = WriteFeatures("real.npy", 10, 3, 7);
        var (code, _, err) = Run("metrics", real, real, "--convention", "pytorch-fdi", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        // A usage mistake: the line naming it, then the command's usage line.
        var lines = err.TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(2), err);
        Assert.That(lines[0], Does.Contain("unknown convention 'pytorch-fdi'").And.Contain("pytorch-fid"));
        Assert.That(lines[1], Does.StartWith("usage: genmetrics metrics "));
    }

    [Test]
    public void AConventionWhoseMetricsNeedFeaturesSaysSoForStatistics()
    {
        string features = WriteFeatures("f.npy", 20, 3, 10);
        string stats = Path.Combine(_dir, "s.npz");
        Assert.That(Run("stats", features, "-o", stats, "--backend", "cpu").Code, Is.EqualTo(0));
        var (code, _, err) = Run("metrics", stats, stats, "--convention", "prdc", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.TrimEnd().Split('\n').Last(), Does.Contain("none of prdc's metrics (prdc) can be computed from these inputs"));
        var (fidCode, stdout, fidErr) = Run("metrics", stats, stats, "--convention", "torch-fidelity", "--backend", "cpu");
        Assert.That(fidCode, Is.EqualTo(0), fidErr);
        Assert.That(stdout, Does.StartWith("fid"), "of torch-fidelity's fid, kid and pr, statistics allow fid");
    }

    [Test]
    public void StatsTakesTheConventionsDivisor()
    {
        string features = WriteFeatures("f.npy", 20, 3, 8);
        string a = Path.Combine(_dir, "a.npz"), b = Path.Combine(_dir, "b.npz");
        Assert.That(Run("stats", features, "-o", a, "--backend", "cpu").Code, Is.EqualTo(0));
        var (code, _, err) = Run("stats", features, "-o", b, "--convention", "stylegan3", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Does.Match(@"cov_divisor\s+n\b"));
        Assert.That(err, Does.Not.Contain("overrides"), "stats takes no --metrics: nothing the user gave overrides the convention");
        var unbiased = FeatureFiles.ReadStatistics(a).Covariance;
        var biased = FeatureFiles.ReadStatistics(b).Covariance;
        for (int i = 0; i < unbiased.Length; i++) Assert.That(biased[i], Is.EqualTo(unbiased[i] * 19 / 20).Within(1e-12 * Math.Abs(unbiased[i]) + 1e-300));
    }

    [Test]
    public void SweepTakesTheConventionsMetricsAndK()
    {
        var store = new GenMetrics.Models.ModelStore(Path.Combine(_dir, "models"));
        store.Install(GenMetrics.Tests.Models.ModelStoreTests.TinyModel("tiny_zip.pt"), GenMetrics.Tests.Models.SyntheticWeights.FixturePath("tiny_zip.pt"));
        string onnx = store.OnnxPath("tiny");
        using var generator = GenMetrics.Generators.Generator.Load(GenMetrics.Tests.Generators.GeneratorFixtures.StyleGan);
        using var network = GenMetrics.Models.OnnxFeatureNetwork.Load(onnx, "pool");
        var seeds = Enumerable.Range(100_000, 60).Select(i => (uint)i).ToArray();
        var real = GenMetrics.Generators.GeneratedFeatures.Extract(generator, seeds, 1.0, null, [network], GenMetrics.Imaging.ResizeMode.Clean)[0];
        string realPath = Path.Combine(_dir, "real.npy");
        FeatureFiles.WriteNpy(realPath, real.Data, real.Rows, real.Dim);
        string output = Path.Combine(_dir, "out");
        var (code, stdout, err) = Run("sweep", "--generator", GenMetrics.Tests.Generators.GeneratorFixtures.StyleGan, "--real", realPath,
            "--psi", "1.0,0.5", "--n", "60", "--convention", "manifmetric", "--network", onnx, "--network-output", "pool", "--backend", "cpu", "-o", output);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("prdc_precision").And.Contain("sym_precision").And.Not.Contain(" fid"));
        Assert.That(err, Does.Match(@"convention\s+manifmetric"));
        Assert.That(err, Does.Match(@"feature_network\s+tiny.onnx:pool \(--network"), "the user's network, not the convention's VGG-16 fc2");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "sweep.json")));
        foreach (var row in doc.RootElement.EnumerateArray())
        {
            Assert.That(row.GetProperty("k").GetInt32(), Is.EqualTo(5));
            Assert.That(row.GetProperty("convention").GetString(), Is.EqualTo("manifmetric"));
            Assert.That(row.TryGetProperty("comp_precision", out _), Is.True);
        }
    }

    [Test]
    public void InceptionScoreTakesTheConventionsSplitsAndShuffle()
    {
        string logits = WriteFeatures("logits.npy", 57, 10, 9);
        double Mean(params string[] extra)
        {
            var (code, stdout, err) = Run(["is", logits, "--json", "-", .. extra]);
            Assert.That(code, Is.EqualTo(0), err);
            return JsonDocument.Parse(stdout).RootElement.GetProperty("is_mean").GetDouble();
        }
        Assert.That(Mean("--convention", "torch-fidelity"), Is.EqualTo(Mean("--shuffle", "--seed", "2020")));
        Assert.That(Mean("--convention", "stylegan2-ada"), Is.EqualTo(Mean()));
        Assert.That(Mean("--convention", "torch-fidelity"), Is.Not.EqualTo(Mean()));
    }

    /// <summary>The plain line gives the total N and the size of each split, not N as each split's size.</summary>
    [Test]
    public void InceptionScoreLineSaysTheTotalAndTheSplitSize()
    {
        string logits = WriteFeatures("logits500.npy", 500, 10, 9);
        var (code, stdout, err) = Run("is", logits);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("(500 samples in 10 splits of 50, 10 classes)"));
        logits = WriteFeatures("logits57.npy", 57, 10, 9);
        (code, stdout, err) = Run("is", logits);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("(57 samples in 10 splits of ~5, 10 classes)"));
    }

    /// <summary>
    /// pytorch-fid has no precision/recall: with --metrics fid,pr its convention defines only FID's choices, and
    /// the k-NN ones (k, comparison, radius) are GenMetrics' defaults, labelled so on stderr and listed in the
    /// JSON's genmetrics_defaults; no tool_distance_arithmetic is claimed for a tool without k-NN. A tool that
    /// defines the k-NN choices (torch-fidelity) gets no such label.
    /// </summary>
    [Test]
    public void ChoicesTheConventionDoesNotDefineAreLabelledAsDefaults()
    {
        string real = WriteFeatures("real.npy", 60, 6, 1);
        string fake = WriteFeatures("fake.npy", 50, 6, 2, shift: 0.2f);
        var (code, stdout, err) = Run("metrics", real, fake, "--convention", "pytorch-fid", "--metrics", "fid,pr", "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var root = doc.RootElement;
            Assert.That(root.GetProperty("genmetrics_defaults").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "k", "comparison", "radius" }));
            Assert.That(root.TryGetProperty("tool_distance_arithmetic", out _), Is.False);
            Assert.That(root.GetProperty("cov_divisor").GetString(), Is.EqualTo("n-1"));
        }
        var lines = err.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        const string Label = "(not defined by pytorch-fid; genmetrics default)";
        foreach (var key in new[] { "k ", "comparison ", "radius " })
            Assert.That(lines.Single(l => l.StartsWith(key, StringComparison.Ordinal)), Does.EndWith(Label), key);
        Assert.That(lines.Single(l => l.StartsWith("cov_divisor", StringComparison.Ordinal)), Does.Not.Contain("not defined"));

        // An explicit --k is the user's value, not a default; torch-fidelity defines its k-NN choices.
        (code, stdout, err) = Run("metrics", real, fake, "--convention", "pytorch-fid", "--metrics", "pr", "--k", "5", "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        using (var doc = JsonDocument.Parse(stdout))
            Assert.That(doc.RootElement.GetProperty("genmetrics_defaults").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "comparison", "radius" }));
        (code, stdout, err) = Run("metrics", real, fake, "--convention", "torch-fidelity", "--metrics", "pr", "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        using (var doc = JsonDocument.Parse(stdout))
            Assert.That(doc.RootElement.TryGetProperty("genmetrics_defaults", out _), Is.False);
        Assert.That(err, Does.Not.Contain("not defined by"));
    }

    /// <summary>
    /// Which tools keep μ as a float32 mean, from their sources: clean-fid and torch-fidelity take np.mean of
    /// float32 features; pytorch-fid and dgm-eval store the features in np.empty (float64) first. dgm-eval's
    /// KID kernel is therefore float64 too, not float32 like the other tools'.
    /// </summary>
    [Test]
    public void ListConventionsSaysWhichToolsKeepMuInFloat32()
    {
        var (code, stdout, err) = Run("list", "--conventions");
        Assert.That(code, Is.EqualTo(0), err);
        var blocks = stdout.Split(Environment.NewLine).Aggregate(new List<List<string>>(), (acc, line) =>
        {
            if (line.Length > 0 && line[0] != ' ') acc.Add([line]);
            else if (acc.Count > 0) acc[^1].Add(line);
            return acc;
        }).ToDictionary(b => b[0].Split(' ')[0], b => string.Join("\n", b.Skip(1)));
        foreach (var name in new[] { "clean-fid", "clean-fid:legacy_tensorflow", "clean-fid:legacy_pytorch", "torch-fidelity" })
            Assert.That(blocks[name], Does.Match("differs: fid: .*keeps mu as the float32 mean"), name);
        foreach (var name in new[] { "pytorch-fid", "dgm-eval", "genmetrics" })
            Assert.That(blocks[name], Does.Not.Contain("float32 mean"), name);
        Assert.That(blocks["dgm-eval"], Does.Contain("differs: kid: dgm-eval stores its features as float64"));
        Assert.That(blocks["dgm-eval"], Does.Not.Contain("sums them in float32"));
        Assert.That(blocks["torch-fidelity"], Does.Contain("sums them in float32"));
    }

    [Test]
    public void ListConventionsNamesEveryConventionAndItsChoices()
    {
        var (code, stdout, err) = Run("list", "--conventions");
        Assert.That(code, Is.EqualTo(0), err);
        foreach (var c in Conventions.All) Assert.That(stdout, Does.Contain(c.Name + Environment.NewLine).Or.Contain(c.Name + " (also:"), c.Name);
        Assert.That(stdout, Does.Contain("cov_divisor: n").And.Contain("kid_draw_first: real").And.Contain("knn_features: vgg16 fc2"));
        var (_, list, _) = Run("list");
        Assert.That(list, Does.Contain("prdc   keys: prdc_precision, prdc_recall, density, coverage"));
    }
}
