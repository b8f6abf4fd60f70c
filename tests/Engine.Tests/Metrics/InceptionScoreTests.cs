using GenMetrics.Features;
using GenMetrics.Metrics;
using GenMetrics.Randomness;

namespace GenMetrics.Tests.Metrics;

public class InceptionScoreTests
{
    private static FeatureMatrix Logits(int n, int classes, int seed)
    {
        var rng = new System.Random(seed);
        var data = new float[n * classes];
        for (int i = 0; i < n; i++)
        {
            int favourite = rng.Next(classes);
            for (int c = 0; c < classes; c++) data[i * classes + c] = (float)(rng.NextDouble() * 4 - 2 + (c == favourite ? 6 : 0));
        }
        return new FeatureMatrix(data, n, classes, "logits");
    }

    // IS straight from metrics-spec §5 in float64: softmax, split [⌊sN/S⌋, ⌊(s+1)N/S⌋), exp(mean KL(p_i ‖ p̄_s)).
    private static double[] ReferenceSplits(FeatureMatrix logits, int splits, int[] order)
    {
        int n = logits.Rows, classes = logits.Dim;
        var p = new double[n][];
        for (int i = 0; i < n; i++)
        {
            var row = logits.Row(order[i]).ToArray().Select(v => (double)v).ToArray();
            double max = row.Max();
            var e = row.Select(v => Math.Exp(v - max)).ToArray();
            double sum = e.Sum();
            p[i] = e.Select(v => v / sum).ToArray();
        }
        var scores = new double[splits];
        for (int s = 0; s < splits; s++)
        {
            int start = s * n / splits, end = (s + 1) * n / splits;
            var mean = new double[classes];
            for (int i = start; i < end; i++)
                for (int c = 0; c < classes; c++) mean[c] += p[i][c] / (end - start);
            double kl = 0;
            for (int i = start; i < end; i++)
                for (int c = 0; c < classes; c++) kl += p[i][c] * (Math.Log(p[i][c]) - Math.Log(mean[c]));
            scores[s] = Math.Exp(kl / (end - start));
        }
        return scores;
    }

    [Test]
    public void LogitsMatchFloat64Reference()
    {
        // 103 rows in 10 splits: uneven split sizes exercise the floor(s·N/S) boundaries.
        var logits = Logits(103, 20, seed: 41);
        var result = InceptionScore.Compute(logits);
        var expected = ReferenceSplits(logits, 10, Enumerable.Range(0, 103).ToArray());
        Assert.That(result.InputWasProbabilities, Is.False);
        Assert.That(result.SplitScores, Is.EqualTo(expected).Within(1e-9));
        double mean = expected.Average();
        Assert.That(result.Mean, Is.EqualTo(mean).Within(1e-9));
        Assert.That(result.Std, Is.EqualTo(Math.Sqrt(expected.Sum(v => (v - mean) * (v - mean)) / 10)).Within(1e-9));
        Assert.That(result.Mean, Is.GreaterThan(3), "confident, diverse predictions give a clearly high score");
    }

    [Test]
    public void ShuffleUsesNumpyPermutation()
    {
        var logits = Logits(57, 12, seed: 42);
        var result = InceptionScore.Compute(logits, splits: 4, shuffle: true, seed: 2020);
        var expected = ReferenceSplits(logits, 4, new NumpyRandomState(2020).Permutation(57));
        Assert.That(result.SplitScores, Is.EqualTo(expected).Within(1e-9));
        Assert.That(result.Shuffled, Is.True);
        Assert.That(result.SplitScores, Is.Not.EqualTo(InceptionScore.Compute(logits, splits: 4).SplitScores));
    }

    [Test]
    public void ProbabilitiesGiveTheSameScoreAsLogits()
    {
        var logits = Logits(80, 15, seed: 43);
        var probabilities = new float[logits.Data.Length];
        for (int i = 0; i < logits.Rows; i++)
        {
            var row = logits.Row(i);
            float max = float.NegativeInfinity;
            foreach (float v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int c = 0; c < row.Length; c++) probabilities[i * 15 + c] = (float)(Math.Exp(row[c] - max) / sum);
        }
        var fromProbabilities = InceptionScore.Compute(new FeatureMatrix(probabilities, 80, 15), splits: 5);
        var fromLogits = InceptionScore.Compute(logits, splits: 5);
        Assert.That(fromProbabilities.InputWasProbabilities, Is.True);
        // float32 rounding of the probabilities only.
        Assert.That(fromProbabilities.SplitScores, Is.EqualTo(fromLogits.SplitScores).Within(1e-4));
    }

    [Test]
    public void ZeroProbabilitiesContributeNothing()
    {
        // One-hot rows over 4 classes, each class equally often: p̄ uniform, every KL = log 4, IS = 4 exactly.
        var data = new float[8 * 4];
        for (int i = 0; i < 8; i++) data[i * 4 + i % 4] = 1f;
        var result = InceptionScore.Compute(new FeatureMatrix(data, 8, 4), splits: 2);
        Assert.That(result.SplitScores, Is.All.EqualTo(4.0).Within(1e-12));
        Assert.That(result.Std, Is.EqualTo(0.0).Within(1e-12));
    }

    [Test]
    public void InvalidSplitsAreInputErrors()
    {
        var logits = Logits(5, 3, seed: 44);
        Assert.Throws<InputException>(() => InceptionScore.Compute(logits, splits: 0));
        var e = Assert.Throws<InputException>(() => InceptionScore.Compute(logits, splits: 6));
        Assert.That(e!.Message, Does.StartWith("logits:"));
    }
}
