using GenMetrics.Features;

namespace GenMetrics.Tests.Features;

/// <summary>EnsureFinite checks a SIMD vector at a time: every position (vector body and scalar tail) must be seen.</summary>
public class FeatureMatrixFiniteTests
{
    [Test]
    public void FindsTheFirstNonFiniteValueAtEveryPosition()
    {
        const int rows = 7, dim = 11; // 77 values: several vectors and a tail for any vector width
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7fc00001) })
        {
            for (int at = 0; at < rows * dim; at++)
            {
                var data = new float[rows * dim];
                for (int i = 0; i < data.Length; i++) data[i] = i % 3 == 0 ? float.MaxValue : -float.Epsilon * i;
                data[at] = bad;
                if (at + 5 < data.Length) data[at + 5] = float.NaN; // a later one must not be the one reported
                var e = Assert.Throws<InputException>(() => new FeatureMatrix(data, rows, dim, "x.npy").EnsureFinite());
                Assert.That(e!.Message, Does.Contain($"x.npy: value at row {at / dim}, column {at % dim} is"), $"value {bad} at {at}");
            }
        }
    }

    [Test]
    public void ChecksInParallelButReportsTheFirstAcrossChunks()
    {
        const int dim = 1000, rows = 3100; // 3.1M values: four chunks of 2^20, the last one partial
        var data = new float[rows * dim];
        data[3_050_123] = float.NaN;       // last chunk
        data[2_500_000] = float.PositiveInfinity;
        data[1_500_001] = float.NegativeInfinity;
        var e = Assert.Throws<InputException>(() => new FeatureMatrix(data, rows, dim, "big.npy").EnsureFinite());
        Assert.That(e!.Message, Does.Contain("row 1500, column 1 is -∞").Or.Contain("row 1500, column 1 is -Infinity"));
        data[1_500_001] = 0;
        data[2_500_000] = 0;
        e = Assert.Throws<InputException>(() => new FeatureMatrix(data, rows, dim, "big.npy").EnsureFinite());
        Assert.That(e!.Message, Does.Contain("row 3050, column 123 is NaN"));
    }

    [Test]
    public void FiniteExtremesPass()
    {
        var data = new[] { float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 0f, -0f, 1e-38f, 3e38f, 1f };
        Assert.DoesNotThrow(() => new FeatureMatrix(data, 3, 3).EnsureFinite());
        Assert.DoesNotThrow(() => new FeatureMatrix([], 0, 4).EnsureFinite());
    }
}
