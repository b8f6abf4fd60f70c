using System.Text.Json;

namespace GenMetrics.Tests.Generators;

/// <summary>The files make_fixtures.py wrote (tests/Engine.Tests/Fixtures/generators).</summary>
internal static class GeneratorFixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([TestContext.CurrentContext.TestDirectory, "Fixtures", "generators", .. parts]);

    public static string Single => Path("single", "generator.json");
    public static string SinglePsi => Path("single_psi", "generator.json");
    public static string StyleGan => Path("stylegan", "generator.json");

    public static readonly uint[] Seeds = [3, 7];

    /// <summary>Torch's float64 image [3, 8, 8] for a case ("single", "stylegan_psi_0.7", ...) and seed, raw output range.</summary>
    public static double[] Expected(string name, uint seed)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path("expected.json")));
        return doc.RootElement.GetProperty("cases").GetProperty(name).GetProperty(seed.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .EnumerateArray().Select(v => v.GetDouble()).ToArray();
    }

    public static double[] ExpectedEstimatedWAvg()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path("expected.json")));
        return doc.RootElement.GetProperty("w_avg_estimated").EnumerateArray().Select(v => v.GetDouble()).ToArray();
    }

    /// <summary>A fresh folder under the test output; removed by the caller.</summary>
    public static string TempFolder()
    {
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "genmetrics-generators-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
