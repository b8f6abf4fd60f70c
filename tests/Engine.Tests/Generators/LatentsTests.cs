using System.Text.Json;
using GenMetrics.Generators;

namespace GenMetrics.Tests.Generators;

public class LatentsTests
{
    /// <summary>np.random.RandomState(s).randn(1, 512) from make_fixtures.py: first and last 8 values.</summary>
    [Test]
    public void LatentsMatchNumpyRandn()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(GeneratorFixtures.Path("latents.json")));
        int checkedSeeds = 0;
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            uint seed = uint.Parse(entry.Name, System.Globalization.CultureInfo.InvariantCulture);
            var latent = Latents.ForSeed(seed, 512);
            var first = entry.Value.GetProperty("first").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var last = entry.Value.GetProperty("last").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (int i = 0; i < 8; i++)
            {
                Assert.That(latent[i], Is.EqualTo((float)first[i]), $"seed {seed} value {i}");
                Assert.That(latent[504 + i], Is.EqualTo((float)last[i]), $"seed {seed} value {504 + i}");
            }
            checkedSeeds++;
        }
        Assert.That(checkedSeeds, Is.EqualTo(5));
    }

    [Test]
    public void ForSeedsStacksRowsInSeedOrder()
    {
        var stacked = Latents.ForSeeds([9, 2, 9], 5);
        Assert.That(stacked[..5], Is.EqualTo(Latents.ForSeed(9, 5)));
        Assert.That(stacked[5..10], Is.EqualTo(Latents.ForSeed(2, 5)));
        Assert.That(stacked[10..], Is.EqualTo(Latents.ForSeed(9, 5)));
    }

    /// <summary>randn(1, Z) with odd Z leaves a cached Gaussian unused: the prefix of a longer draw is the same.</summary>
    [Test]
    public void ShorterLatentIsPrefixOfLonger() =>
        Assert.That(Latents.ForSeed(42, 7), Is.EqualTo(Latents.ForSeed(42, 512)[..7]));
}
