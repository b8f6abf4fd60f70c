using System.IO.Compression;
using System.Text;
using GenMetrics.Features;

namespace GenMetrics.Tests.Features;

/// <summary>
/// Statistics members larger than the 1 MiB buffer they are read through (FeatureFiles.ReadWhole): every value
/// lands in its place across chunk boundaries, float32 members are widened exactly, and a member cut short is
/// still refused with one line.
/// </summary>
public class StatisticsChunkedReadTests
{
    string tempDir = "";

    [SetUp]
    public void CreateTempDir() => tempDir = Directory.CreateTempSubdirectory("genmetrics-stats-").FullName;

    [TearDown]
    public void RemoveTempDir() => Directory.Delete(tempDir, recursive: true);

    // 600² x 4 bytes = 1.37 MiB, 400² x 8 bytes = 1.22 MiB, 700² x 8 = 3.7 MiB: one to three chunk boundaries.
    [TestCase(600, false)]
    [TestCase(400, true)]
    [TestCase(700, true)]
    public void ValuesLandInPlaceAcrossChunks(int d, bool float64)
    {
        var mu = new double[d];
        var sigma = new double[(long)d * d];
        for (int i = 0; i < d; i++)
        {
            mu[i] = float64 ? Math.Sin(i) : (float)Math.Sin(i);
            for (int j = 0; j <= i; j++)
            {
                double v = i == j ? d + i : Math.Cos(i * 0.37 + j * 1.3) / (1 + Math.Abs(i - j));
                if (!float64) v = (float)v;
                sigma[(long)i * d + j] = sigma[(long)j * d + i] = v;
            }
        }
        string path = Path.Combine(tempDir, "stats.npz");
        WriteNpz(path, mu, sigma, d, float64, cutBytes: 0);
        var s = FeatureFiles.ReadStatistics(path);
        Assert.That(s.Mean, Is.EqualTo(mu));
        Assert.That(s.Covariance, Is.EqualTo(sigma));
    }

    [Test]
    public void AMemberCutShortIsRefusedWithOneLine()
    {
        const int d = 400;
        var sigma = new double[d * d];
        for (int i = 0; i < d; i++) sigma[i * d + i] = 1;
        string path = Path.Combine(tempDir, "cut.npz");
        WriteNpz(path, new double[d], sigma, d, float64: true, cutBytes: 8 * d * 3);
        var e = Assert.Throws<InputException>(() => FeatureFiles.ReadStatistics(path));
        Assert.That(e!.Message, Does.Contain("cut.npz").And.Contain("truncated").And.Not.Contain("\n"));
    }

    /// <summary>An npz as np.savez writes it (stored members, npy 1.0 headers); sigma's data cut short by <paramref name="cutBytes"/>.</summary>
    static void WriteNpz(string path, double[] mu, double[] sigma, int d, bool float64, int cutBytes)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        WriteMember(zip, "mu.npy", mu, $"({d},)", float64, 0);
        WriteMember(zip, "sigma.npy", sigma, $"({d}, {d})", float64, cutBytes);
    }

    static void WriteMember(ZipArchive zip, string name, double[] values, string shape, bool float64, int cutBytes)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        string dict = $"{{'descr': '{(float64 ? "<f8" : "<f4")}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + dict.Length + 1;
        dict = dict.PadRight(dict.Length + (64 - total % 64) % 64) + "\n";
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(dict.Length & 0xff), (byte)(dict.Length >> 8)]);
        stream.Write(Encoding.ASCII.GetBytes(dict));
        var data = new MemoryStream();
        using (var writer = new BinaryWriter(data, Encoding.ASCII, leaveOpen: true))
            foreach (double v in values)
                if (float64) writer.Write(v); else writer.Write((float)v);
        stream.Write(data.GetBuffer(), 0, (int)data.Length - cutBytes);
    }
}
