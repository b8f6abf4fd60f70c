using System.Text.RegularExpressions;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;

namespace GenMetrics.Tests.Evaluation;

/// <summary>The one registry: keys, defaults and conventions are declared once and everything reads them.</summary>
public class MetricRegistryTests
{
    private static FeatureMatrix Random(int rows, int dim, int seed, float shift, string name)
    {
        var rng = new Random(seed);
        var data = new float[rows * dim];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) + shift;
        return new FeatureMatrix(data, rows, dim, name);
    }

    [Test]
    public void EvaluatorWritesExactlyTheRegistrysKeysInItsOrder()
    {
        var real = MetricInput.FromFeatures(Random(40, 4, 1, 0, "real"));
        var fake = MetricInput.FromFeatures(Random(35, 4, 2, 0.2f, "fake"));
        using var backend = new CpuBackend();
        foreach (var info in MetricRegistry.All)
        {
            var result = Evaluator.Evaluate(real, fake, new EvaluationOptions { Groups = [info.Group] }, backend);
            Assert.That(result.Values.Select(v => v.Key).Where(k => !MetricRegistry.IsReportKey(k)), Is.EqualTo(info.Keys), info.Name);
            // The k-NN groups add the one report key of their pass, after their metrics; FID and KID none.
            Assert.That(result.Values.Select(v => v.Key).Where(MetricRegistry.IsReportKey),
                Is.EqualTo(info.IsKnn ? new[] { MetricRegistry.RefinedDecisions } : []), info.Name);
        }
    }

    [Test]
    public void PrdcKeysAreThePrdcPrecisionAndRecallOfTheKnnPass()
    {
        var real = Random(50, 3, 3, 0, "real");
        var fake = Random(45, 3, 4, 0.3f, "fake");
        using var backend = new CpuBackend();
        var knn = GenMetrics.Metrics.KnnMetrics.Compute(real, fake, [5], backend).PerK[0];
        var result = Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake),
            new EvaluationOptions { Groups = [MetricGroup.Prdc] }, backend);
        Assert.That(result["prdc_precision"], Is.EqualTo(knn.PrdcPrecision));
        Assert.That(result["prdc_recall"], Is.EqualTo(knn.PrdcRecall));
        Assert.That(result["density"], Is.EqualTo(knn.Density));
        Assert.That(result["coverage"], Is.EqualTo(knn.Coverage));
    }

    [Test]
    public void ConventionsHaveUniqueNamesAndAliasesAndResolve()
    {
        var names = Conventions.All.SelectMany(c => c.Aliases.Prepend(c.Name)).Select(n => n.ToLowerInvariant()).ToList();
        Assert.That(names, Is.Unique);
        foreach (var name in names) Assert.That(Conventions.Find(name), Is.Not.Null, name);
        Assert.That(Conventions.Find("StyleGAN3").Name, Is.EqualTo("stylegan2-ada"));
        Assert.That(Conventions.Find("clean_fid:legacy_tensorflow").Name, Is.EqualTo("clean-fid:legacy_tensorflow"));
        string[] required = ["pytorch-fid", "clean-fid", "clean-fid:legacy_tensorflow", "clean-fid:legacy_pytorch", "torch-fidelity",
            "torchmetrics", "stylegan2-ada", "kynkaat", "prdc", "manifmetric", "dgm-eval"];
        Assert.That(Conventions.All.Select(c => c.Name), Is.SupersetOf(required));
        Assert.Throws<InputException>(() => Conventions.Find("fid"));
    }

    [Test]
    public void WithoutAConventionTheDefaultsApplyAndNothingIsSaidToOverride()
    {
        var resolved = Conventions.Resolve(null, new ConventionOverrides { Seed = 5, CovarianceDivisor = CovarianceDivisor.N });
        Assert.That(resolved.Convention.Name, Is.EqualTo("genmetrics"));
        Assert.That(resolved.OverrideNotes, Is.Empty);
        Assert.That(resolved.Options.Seed, Is.EqualTo(5));
        Assert.That(resolved.Options.CovarianceDivisor, Is.EqualTo(CovarianceDivisor.N));
        var plain = new EvaluationOptions();
        var defaults = Conventions.Resolve(null).Options;
        Assert.That((defaults.Seed, defaults.KidSubsets, defaults.KidSubsetSize, defaults.CovarianceDivisor, defaults.KidDrawOrder, defaults.KidSmallSets),
            Is.EqualTo((plain.Seed, plain.KidSubsets, plain.KidSubsetSize, plain.CovarianceDivisor, plain.KidDrawOrder, plain.KidSmallSets)));
    }

    [Test]
    public void AnExplicitValueEqualToTheConventionsIsNotAnOverride()
    {
        var resolved = Conventions.Resolve("torch-fidelity", new ConventionOverrides { Seed = 2020, Ks = [3], KidSubsetSize = 500 });
        Assert.That(resolved.OverrideNotes, Is.EqualTo(new[] { "--kid-subset-size 500 overrides torch-fidelity's kid_subset_size 1000" }));
        Assert.That(resolved.Choices.Single(c => c.Key == "kid_subset_size").Overridden, Is.EqualTo("1000"));
        Assert.That(resolved.Choices.Single(c => c.Key == "seed").Overridden, Is.Null);
    }

    [Test]
    public void ConventionsGroupsBecomeTheDefaultMetrics()
    {
        var real = MetricInput.FromFeatures(Random(30, 3, 5, 0, "real"));
        var fake = MetricInput.FromFeatures(Random(30, 3, 6, 0.1f, "fake"));
        using var backend = new CpuBackend();
        var result = Evaluator.Evaluate(real, fake, Conventions.Resolve("kynkaat").Options, backend);
        Assert.That(result.Values.Select(v => v.Key), Is.EqualTo(new[] { "precision", "recall", MetricRegistry.RefinedDecisions }));
        Assert.That(result.Ks, Is.EqualTo(new[] { 3 }));
        Assert.That(result.Convention, Is.EqualTo("kynkaat"));
        Assert.That(result.Choices.Select(c => c.Key), Is.EqualTo(new[] { "comparison", "squared_distances", "radius", "tool_distance_arithmetic" }));
    }

    /// <summary>
    /// Defaults are written once (MetricDefaults): no other source file spells the seed 2020 in code (comments
    /// may mention it; the C header's copy is checked by NativeExportsTests).
    /// </summary>
    [Test]
    public void DefaultsAreWrittenOnce()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        Assert.That(dir, Is.Not.Null);
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(dir!.FullName, "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.EndsWith("MetricRegistry.cs", StringComparison.Ordinal)) continue;
            foreach (var (line, number) in File.ReadLines(file).Select((l, i) => (l.Trim(), i + 1)))
            {
                if (line.StartsWith("//", StringComparison.Ordinal)) continue;
                string code = line.Split("//")[0];
                if (Regex.IsMatch(code, @"\b2020\b"))
                    offenders.Add($"{Path.GetFileName(file)}:{number}: {line}");
            }
        }
        Assert.That(offenders, Is.Empty);
    }
}
