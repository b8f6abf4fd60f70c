using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Randomness;

namespace GenMetrics.Metrics;

/// <summary>Inception Score over <see cref="Splits"/> splits.</summary>
/// <param name="Mean">Mean of the per-split scores.</param>
/// <param name="Std">Population standard deviation of the per-split scores.</param>
/// <param name="SplitScores">exp(mean KL(p_i ‖ p̄_s)) for each split, in split order.</param>
/// <param name="Splits">Number of splits.</param>
/// <param name="Shuffled">Whether the rows were shuffled (torch-fidelity) before splitting.</param>
/// <param name="Seed">Seed of the shuffle (recorded even when not shuffled).</param>
/// <param name="InputWasProbabilities">True when the rows were taken as class probabilities rather than logits.</param>
public sealed record InceptionScoreResult(
    double Mean,
    double Std,
    IReadOnlyList<double> SplitScores,
    int Splits,
    bool Shuffled,
    int Seed,
    bool InputWasProbabilities);

/// <summary>
/// Inception Score (metrics-spec §5) from unbiased logits (float64 log-softmax) or from probabilities.
/// Split s holds rows [⌊sN/S⌋, ⌊(s+1)N/S⌋) of the (optionally shuffled) set.
/// </summary>
public static class InceptionScore
{
    /// <summary>
    /// Rows are probabilities when every value lies in [0, 1] and every row sums to 1 within 1e-3;
    /// otherwise they are logits. shuffle reorders the rows by numpy RandomState(seed).permutation(N)
    /// first, as torch-fidelity does; without it (StyleGAN2-ADA) the splits follow generation order.
    /// </summary>
    public static InceptionScoreResult Compute(FeatureMatrix logitsOrProbabilities, int splits = MetricDefaults.InceptionScoreSplits, bool shuffle = false, int seed = MetricDefaults.Seed)
    {
        var input = logitsOrProbabilities;
        input.EnsureFinite();
        int n = input.Rows, classes = input.Dim;
        if (splits < 1 || splits > n)
            throw InputException.For(input.Name, $"Inception Score needs 1 ≤ splits ≤ N; got {splits} splits for {n} samples");
        if (shuffle && seed < 0) throw new InputException($"seed must be a non-negative 32-bit integer, got {seed}");

        bool probabilities = LooksLikeProbabilities(input);
        var order = shuffle ? new NumpyRandomState((uint)seed).Permutation(n) : Enumerable.Range(0, n).ToArray();
        var p = new double[classes];
        var logP = new double[classes];
        var meanP = new double[classes];
        var scores = new double[splits];
        for (int s = 0; s < splits; s++)
        {
            int start = (int)((long)s * n / splits), end = (int)((long)(s + 1) * n / splits);
            Array.Clear(meanP);
            for (int i = start; i < end; i++)
            {
                Distribution(input.Row(order[i]), probabilities, p, logP);
                for (int c = 0; c < classes; c++) meanP[c] += p[c];
            }
            for (int c = 0; c < classes; c++) meanP[c] /= end - start;

            double klSum = 0;
            for (int i = start; i < end; i++)
            {
                Distribution(input.Row(order[i]), probabilities, p, logP);
                // p·log p → 0 as p → 0: a class with p = 0 contributes nothing (and p̄ > 0 wherever p > 0).
                for (int c = 0; c < classes; c++)
                    if (p[c] > 0) klSum += p[c] * (logP[c] - Math.Log(meanP[c]));
            }
            scores[s] = Math.Exp(klSum / (end - start));
        }

        double mean = scores.Average();
        double variance = scores.Sum(v => (v - mean) * (v - mean)) / splits;
        return new InceptionScoreResult(mean, Math.Sqrt(variance), scores, splits, shuffle, seed, probabilities);
    }

    private static bool LooksLikeProbabilities(FeatureMatrix input)
    {
        for (int i = 0; i < input.Rows; i++)
        {
            double sum = 0;
            foreach (float v in input.Row(i))
            {
                if (v < 0f || v > 1f) return false;
                sum += v;
            }
            if (Math.Abs(sum - 1.0) > 1e-3) return false;
        }
        return true;
    }

    // p and log p of one row in float64: log-softmax of logits (finite even where p underflows), or the
    // given probabilities.
    private static void Distribution(ReadOnlySpan<float> row, bool probabilities, double[] p, double[] logP)
    {
        if (probabilities)
        {
            for (int c = 0; c < row.Length; c++)
            {
                p[c] = row[c];
                logP[c] = row[c] > 0 ? Math.Log(row[c]) : double.NegativeInfinity;
            }
            return;
        }
        double max = double.NegativeInfinity;
        foreach (float v in row) max = Math.Max(max, v);
        double sumExp = 0;
        foreach (float v in row) sumExp += Math.Exp(v - max);
        double logSum = max + Math.Log(sumExp);
        for (int c = 0; c < row.Length; c++)
        {
            logP[c] = row[c] - logSum;
            p[c] = Math.Exp(logP[c]);
        }
    }
}
