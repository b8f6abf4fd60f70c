using System.IO.Compression;
using GenMetrics.Features;

namespace GenMetrics.Tests.Metrics;

/// <summary>
/// Real / fake pairs on which float32 Gram-form distances decide k-NN memberships differently from float64
/// (issue 13): integer data with exact ties, a coarse grid, heavy duplication, one huge value, and plain
/// continuous data. Shared by the CPU tests and the Gpu-category tests (CUDA in fp32, tf32, fp16).
/// </summary>
internal static class KnnTestSets
{
    /// <summary>
    /// sklearn's 8x8 digits (1797 rows of 64 integers 0..16, label last; Fixtures/knn/digits.csv.gz, copied
    /// from shared/data, UCI optical digits via Debian python3-sklearn 1.2.1), split by label: labels 0–4 real,
    /// 5–9 fake. Integer pixels with duplicate rows: many distances tie exactly with a radius.
    /// </summary>
    public static (FeatureMatrix Real, FeatureMatrix Fake) Digits()
    {
        string path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "knn", "digits.csv.gz");
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        var real = new List<float>();
        var fake = new List<float>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var fields = line.Split(',');
            var row = fields.Take(64).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture));
            (int.Parse(fields[64], System.Globalization.CultureInfo.InvariantCulture) < 5 ? real : fake).AddRange(row);
        }
        return (new FeatureMatrix(real.ToArray(), real.Count / 64, 64, "digits-0to4"), new FeatureMatrix(fake.ToArray(), fake.Count / 64, 64, "digits-5to9"));
    }

    /// <summary>Gaussian features rounded to multiples of 0.5 (quantised embeddings): ties everywhere.</summary>
    public static (FeatureMatrix Real, FeatureMatrix Fake) CoarseGrid() =>
        (Round(KnnReference.Gaussian(300, 12, seed: 101, name: "grid-real"), 0.5f),
         Round(KnnReference.Gaussian(260, 12, seed: 102, offset: 0.2f, name: "grid-fake"), 0.5f));

    /// <summary>60 distinct rows, each repeated 1 to 6 times, shared partly between the sets (radius 0 rows, d = r = 0).</summary>
    public static (FeatureMatrix Real, FeatureMatrix Fake) Duplicates()
    {
        var pool = KnnReference.Gaussian(60, 10, seed: 103, offset: 20f, name: "pool");
        var rng = new Random(104);
        FeatureMatrix Draw(int first, int count, string name)
        {
            var data = new List<float>();
            for (int i = first; i < first + count; i++)
            {
                int copies = 1 + rng.Next(6);
                for (int c = 0; c < copies; c++) data.AddRange(pool.Row(i).ToArray());
            }
            return new FeatureMatrix(data.ToArray(), data.Count / 10, 10, name);
        }
        return (Draw(0, 40, "dup-real"), Draw(20, 40, "dup-fake"));
    }

    /// <summary>200 x 16 N(0,1) per set, one value of one real row set to <paramref name="value"/> (1e6, 1e7).</summary>
    public static (FeatureMatrix Real, FeatureMatrix Fake) LargeValue(float value)
    {
        var real = KnnReference.Gaussian(200, 16, seed: 105, name: "large-real");
        var fake = KnnReference.Gaussian(200, 16, seed: 106, name: "large-fake");
        real.Data[17 * 16 + 5] = value;
        return (real, fake);
    }

    /// <summary>
    /// Continuous data, a Gaussian mixture (1500 x 1500 x 32, 4 unit-variance components whose centres lie
    /// apart, ~100 per coordinate): the rows' norms about the real mean are far larger than their within-component distances, so the
    /// float32 Gram form decides some memberships differently from float64
    /// (<see cref="KnnMetricsExactTests.ContinuousSetFlipsFloat32Decisions"/> counts them).
    /// </summary>
    public static (FeatureMatrix Real, FeatureMatrix Fake) Continuous()
    {
        var centres = KnnReference.Gaussian(4, 32, seed: 107, scale: 100f, name: "centres");
        FeatureMatrix Mixture(int seed, float jitter, string name)
        {
            var noise = KnnReference.Gaussian(1500, 32, seed: seed, name: name);
            var data = new float[noise.Data.Length];
            for (int i = 0; i < 1500; i++)
                for (int c = 0; c < 32; c++) data[i * 32 + c] = centres[i % 4, c] + jitter + noise[i, c];
            return new FeatureMatrix(data, 1500, 32, name);
        }
        return (Mixture(108, 0f, "mix-real"), Mixture(109, 0.05f, "mix-fake"));
    }

    private static FeatureMatrix Round(FeatureMatrix m, float step)
    {
        var data = m.Data.Select(v => MathF.Round(v / step) * step).ToArray();
        return new FeatureMatrix(data, m.Rows, m.Dim, m.Name);
    }
}
