using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Metrics;
using GenMetrics.Randomness;

namespace GenMetrics.Tests.Metrics;

public class KidTests
{
    private readonly CpuBackend _backend = new();

    [OneTimeTearDown]
    public void TearDown() => _backend.Dispose();

    // Unbiased MMD² with k(a, b) = (aᵀb/D + 1)³ over the given rows, all in float64 (metrics-spec §4).
    private static double ReferenceMmd(FeatureMatrix x, int[] xRows, FeatureMatrix y, int[] yRows)
    {
        int m = xRows.Length, dim = x.Dim;
        double Kernel(FeatureMatrix a, int i, FeatureMatrix b, int j)
        {
            double dot = 0;
            for (int c = 0; c < dim; c++) dot += (double)a[i, c] * b[j, c];
            return Math.Pow(dot / dim + 1, 3);
        }
        double xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
            {
                if (i != j)
                {
                    xx += Kernel(x, xRows[i], x, xRows[j]);
                    yy += Kernel(y, yRows[i], y, yRows[j]);
                }
                xy += Kernel(x, xRows[i], y, yRows[j]);
            }
        return (xx + yy) / (m * (m - 1.0)) - 2 * xy / ((double)m * m);
    }

    [Test]
    public void SubsetsMatchFloat64ReferenceWithTorchFidelityDraws()
    {
        var real = KnnReference.Gaussian(90, 24, seed: 31, name: "real");
        var fake = KnnReference.Gaussian(70, 24, seed: 32, offset: 0.5f, name: "fake");
        var result = Kid.Compute(real, fake, _backend, subsets: 7, subsetSize: 40, seed: 2020);

        // torch-fidelity order: per subset, input1 (fake) rows first, then input2 (real) rows.
        var rng = new NumpyRandomState(2020);
        var expected = new double[7];
        for (int s = 0; s < 7; s++)
        {
            var fakeRows = rng.ChoiceWithoutReplacement(fake.Rows, 40);
            var realRows = rng.ChoiceWithoutReplacement(real.Rows, 40);
            expected[s] = ReferenceMmd(fake, fakeRows, real, realRows);
        }
        double mean = expected.Average();
        double std = Math.Sqrt(expected.Sum(v => (v - mean) * (v - mean)) / expected.Length);

        Assert.That(result.SubsetSize, Is.EqualTo(40));
        Assert.That(result.Seed, Is.EqualTo(2020));
        Assert.That(mean, Is.GreaterThan(0.05), "the shifted sets must give a clearly positive KID");
        for (int s = 0; s < 7; s++) Assert.That(result.SubsetValues[s], Is.EqualTo(expected[s]).Within(1e-5), $"subset {s}");
        Assert.That(result.Mean, Is.EqualTo(mean).Within(1e-5));
        Assert.That(result.Std, Is.EqualTo(std).Within(1e-5));
        Assert.That(result.Std, Is.GreaterThan(0));
    }

    [Test]
    public void WholeSetsGiveTheSameValueWhateverTheDraw()
    {
        var real = KnnReference.Gaussian(50, 16, seed: 33, name: "real");
        var fake = KnnReference.Gaussian(50, 16, seed: 34, offset: 0.3f, scale: 1.3f, name: "fake");
        var all = Enumerable.Range(0, 50).ToArray();
        double expected = ReferenceMmd(fake, all, real, all);

        var a = Kid.Compute(real, fake, _backend, subsets: 3, subsetSize: 1000, seed: 1);
        var b = Kid.Compute(real, fake, _backend, subsets: 2, subsetSize: 50, seed: 99);
        Assert.That(a.SubsetSize, Is.EqualTo(50), "subset size shrinks to the smaller set");
        Assert.That(a.Mean, Is.EqualTo(expected).Within(1e-5));
        Assert.That(b.Mean, Is.EqualTo(expected).Within(1e-5));
        Assert.That(a.Std, Is.LessThan(1e-6));
    }

    [Test]
    public void SubsetSizeShrinksToTheSmallerSet()
    {
        var real = KnnReference.Gaussian(30, 4, seed: 35, name: "real");
        var fake = KnnReference.Gaussian(20, 4, seed: 36, name: "fake");
        Assert.That(Kid.Compute(real, fake, _backend, subsets: 2).SubsetSize, Is.EqualTo(20));
    }

    [Test]
    public void InvalidArgumentsAreInputErrors()
    {
        var real = KnnReference.Gaussian(30, 4, seed: 37, name: "real.npz");
        var one = KnnReference.Gaussian(1, 4, seed: 38, name: "fake.npz");
        var otherDim = KnnReference.Gaussian(30, 5, seed: 39, name: "fake.npz");
        Assert.That(Assert.Throws<InputException>(() => Kid.Compute(real, one, _backend))!.Message, Does.StartWith("fake.npz:"));
        Assert.Throws<InputException>(() => Kid.Compute(real, otherDim, _backend));
        Assert.Throws<InputException>(() => Kid.Compute(real, real, _backend, subsets: 0));
        Assert.Throws<InputException>(() => Kid.Compute(real, real, _backend, subsetSize: 1));
    }
}
