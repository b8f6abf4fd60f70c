using GenMetrics.Generators;

namespace GenMetrics.Tests.Generators;

public class TruncationTests
{
    private const int N = 2, L = 4, W = 5;

    private static (float[] Ws, float[] WAvg) Random()
    {
        var rng = new System.Random(5);
        var ws = Enumerable.Range(0, N * L * W).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var wAvg = Enumerable.Range(0, W).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        return (ws, wAvg);
    }

    [Test]
    public void PsiOneIsIdentity()
    {
        var (ws, wAvg) = Random();
        var copy = ws.ToArray();
        Truncation.Apply(ws, N, L, wAvg, 1.0);
        Assert.That(ws, Is.EqualTo(copy));
    }

    [Test]
    public void PsiZeroGivesWAvgOnEveryLayer()
    {
        var (ws, wAvg) = Random();
        Truncation.Apply(ws, N, L, wAvg, 0.0);
        for (int row = 0; row < N * L; row++)
            Assert.That(ws.AsSpan(row * W, W).ToArray(), Is.EqualTo(wAvg));
    }

    [Test]
    public void CutoffTruncatesOnlyTheFirstLayers()
    {
        var (ws, wAvg) = Random();
        var original = ws.ToArray();
        const double psi = 0.7;
        Truncation.Apply(ws, N, L, wAvg, psi, cutoff: 2);
        for (int i = 0; i < N; i++)
            for (int l = 0; l < L; l++)
                for (int k = 0; k < W; k++)
                {
                    int at = (i * L + l) * W + k;
                    double expected = l < 2 ? wAvg[k] + psi * (original[at] - wAvg[k]) : original[at];
                    Assert.That(ws[at], Is.EqualTo(expected).Within(1e-6), $"sample {i} layer {l} [{k}]");
                }
    }

    [Test]
    public void CutoffBeyondTheLayersTruncatesAll()
    {
        var (a, wAvg) = Random();
        var b = a.ToArray();
        Truncation.Apply(a, N, L, wAvg, 0.5, cutoff: 99);
        Truncation.Apply(b, N, L, wAvg, 0.5);
        Assert.That(a, Is.EqualTo(b));
    }

    [TestCase(-1.5)]
    [TestCase(2.01)]
    [TestCase(double.NaN)]
    public void PsiOutOfRangeIsAnInputError(double psi)
    {
        var (ws, wAvg) = Random();
        var e = Assert.Throws<InputException>(() => Truncation.Apply(ws, N, L, wAvg, psi));
        Assert.That(e!.Message, Does.Contain("outside [-1, 2]"));
    }
}
