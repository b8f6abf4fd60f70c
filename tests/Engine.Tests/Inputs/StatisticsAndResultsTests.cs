using System.Text.Json;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Tests.Inputs;

/// <summary>
/// The "wrong numbers with exit 0" kinds of issue 14: statistics under other key names, indefinite
/// covariances, nearly normalised probabilities for IS, NaN results; and the small-input defaults.
/// </summary>
public class StatisticsAndResultsTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = Directory.CreateTempSubdirectory("genmetrics-inputs-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static string F(string name) => InputFixtures.Path("features", name);

    [Test]
    public void StatisticsUnderOtherNamesAreReadByShapeAndGiveNumpysFid()
    {
        var input = FeatureFiles.Open(F("stats_mean_cov.npz"));
        Assert.That(input, Is.InstanceOf<StatisticsInput>());
        var stats = (StatisticsInput)input;
        Assert.That(stats.Note, Does.Contain("'mean'").And.Contain("'cov'"));
        double expected = InputFixtures.ReadDouble(F("stats_fid.txt"));
        var (code, stdout, stderr) = InputFixtures.Run("metrics", F("stats_mean_cov.npz"), F("stats_ref.npz"), "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("read as statistics by shape"));
        double fid = JsonDocument.Parse(stdout).RootElement.GetProperty("fid").GetDouble();
        Assert.That(fid, Is.EqualTo(expected).Within(1e-9 * Math.Abs(expected)));
    }

    [Test]
    public void AMatrixBesideAVectorIsNeverTakenForFeatures()
    {
        var e = Assert.Throws<InputException>(() => FeatureFiles.Open(F("stats_ambiguous.npz")));
        Assert.That(e!.Message, Does.StartWith(F("stats_ambiguous.npz")).And.Contain("--key"));
        // --key still forces a choice.
        var forced = (FeatureFileInput)FeatureFiles.Open(F("stats_ambiguous.npz"), "feats");
        Assert.That((forced.Rows, forced.Dim), Is.EqualTo((10, 8)));
    }

    [Test]
    public void AnNpzZippedByFinderIgnoresItsMacosCompanions()
    {
        // Finder's zip of a feature npz's members adds __MACOSX/._feats.npy etc.: read like the npz without them
        // (unfiltered, the companion would be a second member whose header is not an .npy header).
        string source = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "features", "savez.npz");
        string npz = Path.Combine(dir, "finder.npz");
        using (var zip = System.IO.Compression.ZipFile.Open(npz, System.IO.Compression.ZipArchiveMode.Create))
        using (var original = System.IO.Compression.ZipFile.OpenRead(source))
        {
            foreach (var entry in original.Entries)
            {
                using (var from = entry.Open())
                using (var to = zip.CreateEntry(entry.FullName).Open()) from.CopyTo(to);
                using var companion = zip.CreateEntry("__MACOSX/._" + entry.FullName).Open();
                companion.Write(new byte[] { 0, 5, 22, 7, 0, 2, 0, 0 });
            }
        }
        var read = (FeatureFileInput)FeatureFiles.Open(npz);
        var expected = (FeatureFileInput)FeatureFiles.Open(source);
        Assert.That(read.Load().Data, Is.EqualTo(expected.Load().Data));
    }

    [Test]
    public void AnIndefiniteCovarianceIsRefusedWithItsSmallestEigenvalue()
    {
        var e = Assert.Throws<InputException>(() => FeatureFiles.Open(F("stats_not_psd.npz")));
        Assert.That(e!.Message, Does.StartWith(F("stats_not_psd.npz")).And.Contain("not positive semi-definite").And.Contain("-1").And.Contain("tolerance"));
        var (code, _, stderr) = InputFixtures.Run("metrics", F("stats_not_psd.npz"), F("stats_not_psd.npz"), "--backend", "cpu");
        Assert.That((code, stderr.Trim().Split('\n').Length), Is.EqualTo((2, 1)), stderr);
    }

    /// <summary>
    /// metrics reads its two inputs at once (the second's PSD check deferred until the first is complete): the
    /// errors are still those of sequential reading, the first input's when both are bad, in one line.
    /// </summary>
    [Test]
    public void TwoInputsReadTogetherReportTheFirstInputsErrorFirst()
    {
        string bad = F("stats_not_psd.npz"), good = F("stats_ref.npz"), missing = Path.Combine(dir, "missing.npz");
        var (code, _, stderr) = InputFixtures.Run("metrics", good, bad, "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith($"genmetrics metrics: {bad}").And.Contain("not positive semi-definite").And.Not.Contain("\n"));
        (code, _, stderr) = InputFixtures.Run("metrics", bad, missing, "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith($"genmetrics metrics: {bad}").And.Not.Contain("\n"));
        (code, _, stderr) = InputFixtures.Run("metrics", missing, bad, "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith($"genmetrics metrics: {missing}: no such file").And.Not.Contain("\n"));
    }

    [Test]
    public void ARankDeficientCovarianceIsAccepted()
    {
        // 10 samples of 64 features: rank 9, 55 eigenvalues that are zero up to round-off (some negative).
        var rng = new Random(3);
        var data = new float[10 * 64];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        string feats = Path.Combine(dir, "few.npy"), stats = Path.Combine(dir, "few_stats.npz");
        FeatureFiles.WriteNpy(feats, data, 10, 64);
        using var backend = new CpuBackend();
        FeatureFiles.WriteStatistics(stats, backend.ComputeStatistics((FeatureFileInput)FeatureFiles.Open(feats), CovarianceDivisor.NMinusOne));
        Assert.That(FeatureFiles.Open(stats), Is.InstanceOf<StatisticsInput>());
    }

    [Test]
    public void NearlyNormalisedProbabilitiesAreAnErrorNamingTheFirstBadRow()
    {
        var (code, _, stderr) = InputFixtures.Run("is", F("is_near_normalized.npy"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("row 0 sums to").And.Contain("--renormalize"));
    }

    [Test]
    public void RenormalizeGivesNumpysInceptionScore()
    {
        var parts = File.ReadAllText(F("is_renormalized.txt")).Split(' ');
        double mean = double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        double std = double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        var (code, stdout, stderr) = InputFixtures.Run("is", F("is_near_normalized.npy"), "--renormalize", "--json", "-");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("read as probabilities").And.Contain("renormalised"));
        var json = JsonDocument.Parse(stdout).RootElement;
        // float32 storage of the renormalised rows: agreement to float32 precision.
        Assert.That(json.GetProperty("is_mean").GetDouble(), Is.EqualTo(mean).Within(1e-6 * mean));
        Assert.That(json.GetProperty("is_std").GetDouble(), Is.EqualTo(std).Within(1e-5 * mean));
    }

    [Test]
    public void InputKindCanBeForcedAndTheChoiceIsReported()
    {
        var (code, _, stderr) = InputFixtures.Run("is", F("is_near_normalized.npy"), "--input", "logits");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("read as logits (--input logits)"));
        var (bad, _, err) = InputFixtures.Run("is", F("features_like.npy"), "--input", "probabilities");
        Assert.That(bad, Is.EqualTo(2));
        Assert.That(err, Does.Contain("probabilities lie in [0, 1]"));
    }

    [Test]
    public void FeaturesScoredAsLogitsGetAWarning()
    {
        var (code, _, stderr) = InputFixtures.Run("is", F("features_like.npy"));
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("looks like features").And.Contain("256 columns"));
        Assert.That(stderr, Does.Contain("read as logits"));
    }

    [TestCase("kid", "genmetrics metrics: kid: kid_mean came out")]
    [TestCase("pr", "k-NN distances: row")]
    [TestCase("prdc", "overflow float32")]
    public void OverflowingResultsAreErrorsNamingTheStage(string metric, string message)
    {
        var (code, stdout, stderr) = InputFixtures.Run("metrics", F("huge_values.npy"), F("huge_values.npy"), "--metrics", metric, "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2), stdout + stderr);
        Assert.That(stderr, Does.Contain(message));
        Assert.That(stdout, Is.Empty);
        var (realism, _, err) = InputFixtures.Run("realism", F("huge_values.npy"), F("huge_values.npy"), "-o", Path.Combine(dir, "r.npy"), "--backend", "cpu");
        Assert.That((realism, File.Exists(Path.Combine(dir, "r.npy"))), Is.EqualTo((2, false)), err);
    }

    [Test]
    public void ANaNResultCannotBeAdded()
    {
        var result = new EvaluationResult();
        var e = Assert.Throws<InputException>(() => result.Add("kid_mean", double.NaN));
        Assert.That(e!.Message, Does.StartWith("kid: kid_mean came out NaN"));
        Assert.Throws<InputException>(() => result.Add("density_k5", double.PositiveInfinity));
    }

    [Test]
    public void TheDefaultSkipsGroupsTheSizesDoNotAllow()
    {
        var rng = new Random(5);
        string Make(string name)
        {
            var data = new float[3 * 4];
            for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
            string path = Path.Combine(dir, name);
            FeatureFiles.WriteNpy(path, data, 3, 4);
            return path;
        }
        var (code, stdout, stderr) = InputFixtures.Run("metrics", Make("a.npy"), Make("b.npy"), "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.That(json.TryGetProperty("fid", out _) && json.TryGetProperty("kid_mean", out _), Is.True, stdout);
        Assert.That(json.TryGetProperty("precision", out _), Is.False);
        Assert.That(stderr, Does.Contain("skipped pr: k = 3 needs at least 4 samples per set").And.Contain("skipped prdc").And.Contain("skipped sym"));
        // Asked for explicitly, the k-NN group stays an error.
        var (asked, _, err) = InputFixtures.Run("metrics", Path.Combine(dir, "a.npy"), Path.Combine(dir, "b.npy"), "--metrics", "pr", "--backend", "cpu");
        Assert.That(asked, Is.EqualTo(2), err);
    }

    [Test]
    public void RepeatedKsAreOneK()
    {
        var rng = new Random(6);
        string Make(string name)
        {
            var data = new float[20 * 4];
            for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
            string path = Path.Combine(dir, name);
            FeatureFiles.WriteNpy(path, data, 20, 4);
            return path;
        }
        var (code, stdout, stderr) = InputFixtures.Run("metrics", Make("a.npy"), Make("b.npy"), "--metrics", "pr,prdc", "--k", "3,3", "--json", "-", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), stderr);
        var keys = new List<string>();
        using (var doc = JsonDocument.Parse(stdout))
            foreach (var p in doc.RootElement.EnumerateObject()) keys.Add(p.Name);
        Assert.That(keys, Is.Unique);
        Assert.That(keys, Does.Contain("precision").And.Contain("density"));
        var (code2, stdout2, _) = InputFixtures.Run("metrics", Path.Combine(dir, "a.npy"), Path.Combine(dir, "b.npy"), "--metrics", "pr", "--k", "3,5,3", "--json", "-", "--backend", "cpu");
        Assert.That(code2, Is.EqualTo(0));
        Assert.That(stdout2.Split("\"precision_k3\"").Length - 1, Is.EqualTo(1));
        Assert.That(stdout2, Does.Contain("precision_k5"));
    }
}
