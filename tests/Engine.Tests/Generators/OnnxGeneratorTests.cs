using GenMetrics.Generators;

namespace GenMetrics.Tests.Generators;

/// <summary>
/// seed -> numpy latent -> ONNX -> pixels, against torch's float64 run of the same modules on the same
/// latents (make_fixtures.py). Tolerance 1e-5 in the raw output range: float32 inference of tiny nets.
/// </summary>
public class OnnxGeneratorTests
{
    private const double Tolerance = 1e-5;

    private static void AssertMatches(float[] pixels, int sample, double[] raw, double low, double high, string what)
    {
        double scale = 255.0 / (high - low);
        for (int i = 0; i < raw.Length; i++)
        {
            double actualRaw = pixels[sample * raw.Length + i] / scale + low;
            Assert.That(actualRaw, Is.EqualTo(raw[i]).Within(Tolerance), $"{what}, value {i}");
        }
    }

    [TestCase("single", "single", 1.0)]
    [TestCase("single_psi", "single_psi_0.5", 0.5)]
    [TestCase("stylegan", "stylegan_psi_1", 1.0)]
    [TestCase("stylegan", "stylegan_psi_0.7", 0.7)]
    public void SeedsToImagesMatchTorch(string folder, string expectedCase, double psi)
    {
        using var generator = Generator.Load(GeneratorFixtures.Path(folder, "generator.json"));
        Assert.That(generator.LatentDim, Is.EqualTo(16));
        Assert.That(generator.ImageSize, Is.EqualTo((8, 8)));
        var seeds = GeneratorFixtures.Seeds;
        var pixels = generator.Generate(Latents.ForSeeds(seeds, 16), seeds.Length, psi);
        Assert.That(pixels, Has.Length.EqualTo(seeds.Length * 3 * 8 * 8));
        double low = folder == "single_psi" ? 0 : -1;
        for (int s = 0; s < seeds.Length; s++)
            AssertMatches(pixels, s, GeneratorFixtures.Expected(expectedCase, seeds[s]), low, 1, $"{expectedCase} seed {seeds[s]}");
    }

    [Test]
    public void TruncationCutoffMatchesTorchAndDiffersFromFullTruncation()
    {
        using var generator = Generator.Load(GeneratorFixtures.StyleGan);
        var seeds = GeneratorFixtures.Seeds;
        var z = Latents.ForSeeds(seeds, 16);
        var cut = generator.Generate(z, 2, 0.7, new GenerationOptions(TruncationCutoff: 2));
        var full = generator.Generate(z, 2, 0.7);
        for (int s = 0; s < 2; s++)
            AssertMatches(cut, s, GeneratorFixtures.Expected("stylegan_psi_0.7_cutoff_2", seeds[s]), -1, 1, $"cutoff seed {seeds[s]}");
        Assert.That(cut.Zip(full).Max(p => Math.Abs(p.First - p.Second)), Is.GreaterThan(0.01), "the cutoff should matter in this fixture");
    }

    [Test]
    public void BatchingDoesNotChangeImages()
    {
        using var generator = Generator.Load(GeneratorFixtures.StyleGan);
        var z = Latents.ForSeeds([1, 2, 3], 16);
        var together = generator.Generate(z, 3, 0.5);
        var alone = generator.Generate(Latents.ForSeed(2, 16), 1, 0.5);
        Assert.That(together.AsSpan(192, 192).ToArray(), Is.EqualTo(alone).Within(1e-4));
    }

    [Test]
    public void PsiZeroGivesTheSameImageForEverySeed()
    {
        using var generator = Generator.Load(GeneratorFixtures.StyleGan);
        var images = generator.Generate(Latents.ForSeeds([1, 99], 16), 2, 0.0);
        Assert.That(images.AsSpan(0, 192).ToArray(), Is.EqualTo(images.AsSpan(192, 192).ToArray()));
    }

    [Test]
    public void WAvgIsEstimatedFromTenThousandMappedLatentsAndCached()
    {
        string dir = GeneratorFixtures.TempFolder();
        try
        {
            string description = Path.Combine(dir, "g.json");
            File.WriteAllText(description, $$"""
                { "kind": "stylegan", "mapping": "{{GeneratorFixtures.Path("stylegan", "mapping.onnx")}}",
                  "synthesis": "{{GeneratorFixtures.Path("stylegan", "synthesis.onnx")}}", "num_layers": 4 }
                """);
            var expected = GeneratorFixtures.ExpectedEstimatedWAvg();
            string cache;
            using (var generator = (StyleGanGenerator)Generator.Load(description))
            {
                Assert.That(generator.WAvg, Is.EqualTo(expected).Within(1e-5));
                cache = generator.WAvgCachePath!;
                Assert.That(cache, Does.StartWith(Path.Combine(dir, "g.w_avg.")).And.EndWith(".npy"));
                Assert.That(File.Exists(cache));
            }
            // A planted cache value proves the second load reads the cache instead of estimating again.
            var planted = expected.Select(v => (float)v + 1f).ToArray();
            GenMetrics.Features.FeatureFiles.WriteNpy(cache, planted, planted.Length);
            using (var generator = (StyleGanGenerator)Generator.Load(description))
                Assert.That(generator.WAvg, Is.EqualTo(planted));
            Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "g.json", Path.GetFileName(cache) }));
            File.WriteAllText(cache, "damaged");
            using (var generator = (StyleGanGenerator)Generator.Load(description))
                Assert.That(generator.WAvg, Is.EqualTo(expected).Within(1e-5));
            Assert.That(File.ReadAllBytes(cache).Length, Is.GreaterThan(16 * 4), "the damaged entry is rewritten");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void WAvgFromNpyFile()
    {
        string dir = GeneratorFixtures.TempFolder();
        try
        {
            var wAvg = Enumerable.Range(0, 16).Select(i => (double)i / 10).ToArray();
            GenMetrics.Features.FeatureFiles.WriteNpy(Path.Combine(dir, "w_avg.npy"), wAvg, 16);
            string description = Path.Combine(dir, "g.json");
            File.WriteAllText(description, $$"""
                { "kind": "stylegan", "mapping": "{{GeneratorFixtures.Path("stylegan", "mapping.onnx")}}",
                  "synthesis": "{{GeneratorFixtures.Path("stylegan", "synthesis.onnx")}}", "num_layers": 4, "w_avg": "w_avg.npy" }
                """);
            using var generator = (StyleGanGenerator)Generator.Load(description);
            Assert.That(generator.WAvg, Is.EqualTo(wAvg.Select(v => (float)v).ToArray()));
            Assert.That(generator.WAvgCachePath, Is.Null);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string ErrorFor(string json)
    {
        string dir = GeneratorFixtures.TempFolder();
        try
        {
            string description = Path.Combine(dir, "g.json");
            File.WriteAllText(description, json.Replace("FIX/", GeneratorFixtures.Path() + "/"));
            var e = Assert.Throws<InputException>(() => Generator.Load(description).Dispose());
            return e!.Message;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void DescriptionErrorsAreClear()
    {
        Assert.That(ErrorFor("""{ "kind": "single", "model": "FIX/single/single.onnx", "latent_input": "latent" }"""),
            Does.Contain("no input 'latent'").And.Contain("'z'"));
        Assert.That(ErrorFor("""{ "kind": "single", "model": "FIX/single/single.onnx", "output": "image" }"""),
            Does.Contain("no output 'image'").And.Contain("'img'"));
        Assert.That(ErrorFor("""{ "kind": "single", "model": "FIX/single/missing.onnx" }"""),
            Does.Contain("missing.onnx: generator model file not found"));
        Assert.That(ErrorFor("""{ "kind": "single", "model": "FIX/single_psi/single_psi.onnx" }"""),
            Does.Contain("has 2 inputs ('z', 'psi')"));
        Assert.That(ErrorFor("""{ "kind": "single", "model": "FIX/single_psi/single_psi.onnx", "latent_input": "z" }"""),
            Does.Contain("model input 'psi' not named"));
        Assert.That(ErrorFor("""{ "kind": "stylegan", "mapping": "FIX/stylegan/mapping.onnx", "synthesis": "FIX/stylegan/synthesis.onnx", "num_layers": 5 }"""),
            Does.Contain("input 'ws' has shape [?, 4, 16], expected ws [N, 5, W]"));
        // The mapping's w [N, 16] is not an image: a synthesis that is really a mapping has the wrong output shape.
        Assert.That(ErrorFor("""{ "kind": "single", "model": "FIX/stylegan/mapping.onnx" }"""),
            Does.Contain("output 'w' has shape").And.Contain("[N, 3, H, W]"));
        Assert.That(ErrorFor("""{ "kind": "stylegan", "mapping": "FIX/stylegan/mapping.onnx", "synthesis": "FIX/stylegan/synthesis.onnx", "num_layers": 4, "w_avg": [1, 2] }"""),
            Does.Contain("w_avg has 2 values, the mapping gives W = 16"));
        Assert.That(ErrorFor("""{ "kind": "stylegan", "mapping": "FIX/stylegan/mapping.onnx", "synthesis": "FIX/stylegan/synthesis.onnx" }"""),
            Does.Contain("needs \"num_layers\""));
        Assert.That(ErrorFor("""{ "kind": "gan" }"""), Does.Contain("unknown \"kind\" 'gan'"));
        Assert.That(ErrorFor("""{ "kind": "single", "model": "x.onnx", "psi": 1 }"""), Does.Contain("g.json: not a valid generator description"));
        Assert.That(ErrorFor("""{ "kind": "single", "model": "x.onnx", "output_range": [1, -1] }"""), Does.Contain("\"output_range\""));
        Assert.That(ErrorFor("not json"), Does.Contain("g.json: not a valid generator description"));
    }

    [Test]
    public void PsiWithoutAPsiInputIsRefused()
    {
        using var generator = Generator.Load(GeneratorFixtures.Single);
        var z = Latents.ForSeed(1, 16);
        var e = Assert.Throws<InputException>(() => generator.Generate(z, 1, 0.7));
        Assert.That(e!.Message, Does.Contain("no psi input"));
        Assert.That(() => generator.Generate(z, 1, 1.0), Throws.Nothing);
        Assert.Throws<InputException>(() => generator.Generate(z, 1, 1.0, new GenerationOptions(TruncationCutoff: 2)));
    }

    [Test]
    public void ClassInputGetsOneHotClassAndMatchesTorch()
    {
        using var generator = Generator.Load(GeneratorFixtures.Path("single_class", "generator.json"));
        var seeds = GeneratorFixtures.Seeds;
        var pixels = generator.Generate(Latents.ForSeeds(seeds, 16), 2, 1.0, new GenerationOptions(ClassIndex: 2));
        for (int s = 0; s < 2; s++)
            AssertMatches(pixels, s, GeneratorFixtures.Expected("single_class_2", seeds[s]), -1, 1, $"class 2 seed {seeds[s]}");
        var z = Latents.ForSeed(3, 16);
        Assert.That(Assert.Throws<InputException>(() => generator.Generate(z, 1))!.Message, Does.Contain("conditional (3 classes): give a class index"));
        Assert.That(Assert.Throws<InputException>(() => generator.Generate(z, 1, 1.0, new GenerationOptions(ClassIndex: 3)))!.Message,
            Does.Contain("class 3 is outside 0..2"));
        using var unconditional = Generator.Load(GeneratorFixtures.Single);
        Assert.That(Assert.Throws<InputException>(() => unconditional.Generate(z, 1, 1.0, new GenerationOptions(ClassIndex: 0)))!.Message,
            Does.Contain("no class input"));
    }

    [Test]
    public void PsiOutOfRangeIsRefused()
    {
        using var generator = Generator.Load(GeneratorFixtures.StyleGan);
        var e = Assert.Throws<InputException>(() => generator.Generate(Latents.ForSeed(1, 16), 1, 2.5));
        Assert.That(e!.Message, Does.Contain("psi 2.5 is outside [-1, 2]"));
    }
}
