using System.Globalization;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;

namespace GenMetrics.Tests.Evaluation;

/// <summary>
/// Each convention against a numpy transcription of its tool's formula (Fixtures/conventions/make_fixtures.py):
/// FID and KID to 1e-12 relative, k-NN keys exactly. The data make the tools' float32 steps exact (see the
/// script), so a mismatch is a wrong formula or a wrong convention setting, not rounding.
/// </summary>
public class ConventionFixtureTests
{
    private static readonly CpuBackend Backend = new();
    private static readonly Dictionary<(string, string), double> Expected = ReadExpected();

    private static string Fixture(string name) =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "conventions", name);

    private static Dictionary<(string, string), double> ReadExpected()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "conventions", "expected.txt");
        var values = new Dictionary<(string, string), double>();
        foreach (var line in File.ReadAllLines(path))
        {
            if (line.StartsWith('#') || line.Length == 0) continue;
            var parts = line.Split(' ');
            values[(parts[0], parts[1])] = double.Parse(parts[2], CultureInfo.InvariantCulture);
        }
        return values;
    }

    private static MetricInput Load(string name) =>
        MetricInput.FromFeatures(((FeatureFileInput)FeatureFiles.Open(Fixture(name + ".npy"))).Load());

    private static EvaluationResult Run(string convention, string set, ConventionOverrides overrides, string realSuffix = "") =>
        Evaluator.Evaluate(Load(set + "_real" + realSuffix), Load(set + "_fake"), Conventions.Resolve(convention, overrides).Options, Backend);

    private static void AssertRelative(double actual, double expected, string what)
    {
        double tolerance = 1e-12 * Math.Abs(expected);
        Assert.That(actual, Is.EqualTo(expected).Within(tolerance), what);
    }

    [TestCase("pytorch-fid")]
    [TestCase("clean-fid")]
    [TestCase("clean-fid:legacy_tensorflow")]
    [TestCase("clean-fid:legacy_pytorch")]
    [TestCase("torch-fidelity")]
    [TestCase("torchmetrics")]
    [TestCase("stylegan2-ada")]
    [TestCase("stylegan3")]
    [TestCase("dgm-eval")]
    public void FidEqualsTheToolsFormula(string convention)
    {
        string tool = Conventions.Find(convention).Name;
        var result = Run(convention, "fid", new ConventionOverrides { Groups = [MetricGroup.Fid] });
        AssertRelative(result[MetricRegistry.Fid], Expected[(tool, "fid")], $"{convention} fid");
        if (tool == "torchmetrics")
            Assert.That((float)result[MetricRegistry.Fid], Is.EqualTo((float)Expected[(tool, "fid_float32")]),
                "torchmetrics returns the float32 cast of the same value");
    }

    [Test]
    public void StyleGan2AdaDividesTheCovarianceByN()
    {
        // The convention, not an accident of the data: the two FIDs of the fixture differ by ~2e-3 relative.
        Assert.That(Expected[("stylegan2-ada", "fid")], Is.Not.EqualTo(Expected[("pytorch-fid", "fid")]).Within(1e-6));
        Assert.That(Conventions.Resolve("stylegan2-ada").Options.CovarianceDivisor, Is.EqualTo(CovarianceDivisor.N));
    }

    // Both sets of 64 rows with subsets of 64: every draw is a permutation of the whole set, so even the
    // unseeded tools' KID is reproduced. torch-fidelity and torchmetrics refuse sets smaller than their subset
    // size (1000): they get the subset size 64 explicitly, as a user of theirs would have to.
    [TestCase("torch-fidelity", 64)]
    [TestCase("torchmetrics", 64)]
    [TestCase("clean-fid", null)]
    [TestCase("stylegan2-ada", null)]
    [TestCase("dgm-eval", null)]
    public void KidEqualsTheToolsFormulaOnWholeSets(string convention, int? subsetSize)
    {
        var result = Run(convention, "kid", new ConventionOverrides { Groups = [MetricGroup.Kid], KidSubsetSize = subsetSize });
        AssertRelative(result[MetricRegistry.KidMean], Expected[(convention, "kid_mean")], $"{convention} kid_mean");
        Assert.That(result[MetricRegistry.KidStd], Is.EqualTo(0).Within(1e-12 * Expected[(convention, "kid_mean")]), "every subset is the whole set");
    }

    [Test]
    public void TorchFidelityRefusesSetsSmallerThanItsSubsetSize()
    {
        var e = Assert.Throws<InputException>(() => Run("torch-fidelity", "kid", new ConventionOverrides { Groups = [MetricGroup.Kid] }));
        Assert.That(e!.Message, Does.Contain("needs at least 1000 samples per set, has 64"));
    }

    [Test]
    public void TorchFidelityKidDrawsAreItsOwn()
    {
        var result = Run("torch-fidelity", "seeded", new ConventionOverrides { Groups = [MetricGroup.Kid], KidSubsets = 5, KidSubsetSize = 40 });
        AssertRelative(result[MetricRegistry.KidMean], Expected[("torch-fidelity", "seeded_kid_mean")], "kid_mean");
        AssertRelative(result[MetricRegistry.KidStd], Expected[("torch-fidelity", "seeded_kid_std")], "kid_std");
    }

    [Test]
    public void RealFirstConventionsDrawTheRealRowsFirst()
    {
        // torchmetrics' draws are unseeded; RandomState(seed) stands in for its generator, in its order (real first).
        var result = Run("torchmetrics", "seeded", new ConventionOverrides { Groups = [MetricGroup.Kid], KidSubsets = 5, KidSubsetSize = 40 });
        AssertRelative(result[MetricRegistry.KidMean], Expected[("torchmetrics", "seeded_kid_mean")], "kid_mean");
        AssertRelative(result[MetricRegistry.KidStd], Expected[("torchmetrics", "seeded_kid_std")], "kid_std");
    }

    [TestCase("kynkaat", new[] { "precision", "recall" })]
    [TestCase("torch-fidelity", new[] { "precision", "recall" })]
    [TestCase("stylegan2-ada", new[] { "precision", "recall" })]
    [TestCase("prdc", new[] { "prdc_precision", "prdc_recall", "density", "coverage" })]
    [TestCase("dgm-eval", new[] { "prdc_precision", "prdc_recall", "density", "coverage" })]
    [TestCase("manifmetric", new[] { "prdc_precision", "prdc_recall", "density", "coverage", "comp_precision", "sym_precision", "sym_recall" })]
    public void KnnKeysEqualTheToolsFormulaExactly(string convention, string[] keys)
    {
        var groups = Conventions.Find(convention).Groups!.Where(g => MetricRegistry.Get(g).IsKnn).ToList();
        // dgm-eval subsamples both sets to the smaller size at random: its number is reproducible on equal sizes only.
        var result = Run(convention, "knn", new ConventionOverrides { Groups = groups, Ks = [3, 5] }, convention == "dgm-eval" ? "_120" : "");
        foreach (int k in new[] { 3, 5 })
        {
            foreach (string key in keys)
            {
                string name = $"{key}_k{k}";
                double expected = Expected[(convention, name)];
                if (key == "density" && convention != "manifmetric")
                {
                    // prdc writes density as (1/k)·mean(count per fake): one more rounding than count/(k·N).
                    // The decisions must be identical (the count), the value equal to that last rounding.
                    double count = Expected[(convention, $"density_count_k{k}")];
                    Assert.That(result[name] * k * 120, Is.EqualTo(count).Within(1e-9), $"{convention} {name}: the count of (fake, real) pairs inside");
                    Assert.That(result[name], Is.EqualTo(expected).Within(2 * Math.BitIncrement(expected) - 2 * expected), $"{convention} {name}");
                }
                else
                {
                    Assert.That(result[name], Is.EqualTo(expected), $"{convention} {name}");
                }
            }
        }
    }
}
