using GenMetrics.Cli;
using GenMetrics.Cli.Commands;
using GenMetrics.Generators;
using SkiaSharp;

namespace GenMetrics.Tests.Generators;

public class GenerateCommandTests
{
    private string _dir = "";

    [SetUp]
    public void CreateFolder() => _dir = GeneratorFixtures.TempFolder();

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Planar [3, H, W] bytes of a PNG, decoded by Skia.</summary>
    private static (byte[] Chw, int H, int W) ReadPng(string path)
    {
        using var decoded = SKBitmap.Decode(path);
        Assert.That(decoded, Is.Not.Null, path);
        int h = decoded.Height, w = decoded.Width;
        var chw = new byte[3 * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var color = decoded.GetPixel(x, y);
                chw[y * w + x] = color.Red;
                chw[h * w + y * w + x] = color.Green;
                chw[2 * h * w + y * w + x] = color.Blue;
            }
        return (chw, h, w);
    }

    private static byte[] Expected(string description, uint seed, double psi, int? cutoff = null)
    {
        using var generator = Generator.Load(description);
        return ImageQuantizer.ToUInt8(generator.Generate(Latents.ForSeed(seed, 16), 1, psi, new GenerationOptions(cutoff)));
    }

    [Test]
    public void WritesOnePngPerSeedNamedBySeed()
    {
        var (code, stdout, err) = Run("generate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3,7-8,12345",
            "--psi", "0.7", "--truncation-cutoff", "2", "--batch", "3", "-o", _dir);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("wrote 4 images of 8x8"));
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "seed0003.png", "seed0007.png", "seed0008.png", "seed12345.png" }));
        foreach (uint seed in new uint[] { 7, 12345 })
        {
            var (chw, h, w) = ReadPng(Path.Combine(_dir, GenerateCommand.FileNameFor(seed)));
            Assert.That((h, w), Is.EqualTo((8, 8)));
            Assert.That(chw, Is.EqualTo(Expected(GeneratorFixtures.StyleGan, seed, 0.7, 2)), $"seed {seed}");
        }
    }

    [Test]
    public void GridHoldsEachSeedAtItsTile()
    {
        var seeds = new uint[] { 5, 1, 9, 2, 7 };
        var (code, stdout, err) = Run("generate", "--generator", GeneratorFixtures.Single, "--seeds", "5,1,9,2,7", "--grid", "--batch", "2", "-o", _dir);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("3 columns x 2 rows"));
        var (grid, h, w) = ReadPng(Path.Combine(_dir, "grid.png"));
        Assert.That((h, w), Is.EqualTo((16, 24)));
        for (int i = 0; i < seeds.Length; i++)
        {
            var image = Expected(GeneratorFixtures.Single, seeds[i], 1.0);
            int top = i / 3 * 8, left = i % 3 * 8;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++)
                        Assert.That(grid[(c * h + top + y) * w + left + x], Is.EqualTo(image[(c * 8 + y) * 8 + x]), $"seed {seeds[i]} c{c} ({y}, {x})");
        }
        for (int c = 0; c < 3; c++)
            Assert.That(grid[(c * h + 8) * w + 16], Is.EqualTo(0), "the empty sixth tile is black");
    }

    [TestCase("--seeds", "1-x", "--seeds: 'x'")]
    [TestCase("--seeds", "4294967296", "beyond the 32-bit unsigned range")]
    [TestCase("--psi", "3", "psi 3 is outside [-1, 2]")]
    public void BadInputExitsWithCodeTwo(string option, string value, string expected)
    {
        var args = new List<string> { "generate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "1", "-o", _dir };
        int at = args.IndexOf(option);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([option, value]);
        var (code, _, err) = Run([.. args]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(expected));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    [Test]
    public void MissingGeneratorIsNamed()
    {
        string missing = Path.Combine(_dir, "nope.json");
        var (code, _, err) = Run("generate", "--generator", missing, "--seeds", "1", "-o", _dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"{missing}: generator description not found"));
    }
}
