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
    bool InputWasProbabilities)
{
    /// <summary>Why the rows were read as they were ("--input probabilities", "every value lies in [0, 1]", ...).</summary>
    public string InputReason { get; init; } = "";

    /// <summary>Warnings for the reader (the input looks like features, rows were renormalised), printed on stderr by the CLI.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>What the rows of an Inception Score input are.</summary>
public enum InceptionScoreInput
{
    /// <summary>Probabilities when every value lies in [0, 1], logits otherwise (the reason is reported).</summary>
    Auto,
    Logits,
    Probabilities,
}

/// <summary>
/// Inception Score (metrics-spec §5) from unbiased logits (float64 log-softmax) or from probabilities.
/// Split s holds rows [⌊sN/S⌋, ⌊(s+1)N/S⌋) of the (optionally shuffled) set.
/// </summary>
public static class InceptionScore
{
    /// <summary>Largest |row sum − 1| accepted for probabilities without <c>renormalize</c>.</summary>
    public const double RowSumTolerance = 1e-3;

    /// <summary>
    /// <paramref name="kind"/> Auto reads the rows as probabilities when every value lies in [0, 1] and as
    /// logits otherwise (a logit vector with no value outside [0, 1] does not occur in practice), and says
    /// which and why in <see cref="InceptionScoreResult.InputReason"/>. Probabilities must lie in [0, 1] and
    /// each row must sum to 1 within <see cref="RowSumTolerance"/>; otherwise the first bad row is an
    /// <see cref="InputException"/>, unless <paramref name="renormalize"/> divides each row by its sum.
    /// shuffle reorders the rows by numpy RandomState(seed).permutation(N) first, as torch-fidelity does;
    /// without it (StyleGAN2-ADA) the splits follow generation order.
    /// </summary>
    public static InceptionScoreResult Compute(FeatureMatrix logitsOrProbabilities, int splits = MetricDefaults.InceptionScoreSplits, bool shuffle = false, int seed = MetricDefaults.Seed,
        InceptionScoreInput kind = InceptionScoreInput.Auto, bool renormalize = false)
    {
        var input = logitsOrProbabilities;
        input.EnsureFinite();
        int n = input.Rows, classes = input.Dim;
        if (splits < 1 || splits > n)
            throw InputException.For(input.Name, $"Inception Score needs 1 ≤ splits ≤ N; got {splits} splits for {n} samples");
        if (shuffle && seed < 0) throw new InputException($"seed must be a non-negative 32-bit integer, got {seed}");

        var warnings = new List<string>();
        if (LooksLikeFeatures(input) is { } why) warnings.Add(why);
        var (probabilities, reason, rowSums) = Classify(input, kind, renormalize);
        if (rowSums is not null)
        {
            // Renormalised copy: each row divided by its sum (float64, rounded once to float32 storage).
            var data = new float[(long)n * classes];
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                var row = input.Row(i);
                if (Math.Abs(rowSums[i] - 1.0) > RowSumTolerance) changed++;
                for (int c = 0; c < classes; c++) data[(long)i * classes + c] = (float)(row[c] / rowSums[i]);
            }
            input = new FeatureMatrix(data, n, classes, input.Name);
            warnings.Add($"{input.Name}: renormalised every row to sum 1 ({changed} of {n} rows were off by more than {RowSumTolerance})");
        }
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
        return new InceptionScoreResult(mean, Math.Sqrt(variance), scores, splits, shuffle, seed, probabilities)
        {
            InputReason = reason,
            Warnings = warnings,
        };
    }

    /// <summary>Probabilities or logits, why, and the row sums when the rows are to be renormalised.</summary>
    private static (bool Probabilities, string Reason, double[]? RowSums) Classify(FeatureMatrix input, InceptionScoreInput kind, bool renormalize)
    {
        if (kind == InceptionScoreInput.Logits) return (false, "logits (--input logits)", null);
        int outsideRow = -1, outsideColumn = -1;
        for (int i = 0; i < input.Rows && outsideRow < 0; i++)
        {
            var row = input.Row(i);
            for (int c = 0; c < row.Length; c++)
            {
                if (row[c] < 0f || row[c] > 1f)
                {
                    outsideRow = i;
                    outsideColumn = c;
                    break;
                }
            }
        }
        float outside = outsideRow >= 0 ? input.Row(outsideRow)[outsideColumn] : 0f;
        if (kind == InceptionScoreInput.Auto && outsideRow >= 0)
            return (false, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"logits: row {outsideRow}, column {outsideColumn} is {outside}, outside [0, 1] (--input probabilities to insist)"), null);
        if (outsideRow >= 0)
            throw InputException.For(input.Name, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"row {outsideRow}, column {outsideColumn} is {outside}: probabilities lie in [0, 1] (use --input logits for logits)"));
        var sums = new double[input.Rows];
        int firstBad = -1;
        for (int i = 0; i < input.Rows; i++)
        {
            double sum = 0;
            foreach (float v in input.Row(i)) sum += v;
            sums[i] = sum;
            if (firstBad < 0 && Math.Abs(sum - 1.0) > RowSumTolerance) firstBad = i;
        }
        string reason = kind == InceptionScoreInput.Probabilities ? "probabilities (--input probabilities)" : "probabilities: every value lies in [0, 1] (--input logits to insist on logits)";
        if (firstBad < 0) return (true, reason, null);
        if (!renormalize)
            throw InputException.For(input.Name, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"read as probabilities (every value lies in [0, 1]), but row {firstBad} sums to {sums[firstBad]:0.######}, not 1 within {RowSumTolerance}: use --renormalize to divide each row by its sum, or --input logits if these are logits"));
        if (sums.Any(v => !(v > 0))) throw InputException.For(input.Name, $"row {Array.FindIndex(sums, v => !(v > 0))} sums to 0: it cannot be renormalised");
        return (true, reason + ", renormalised", sums);
    }

    /// <summary>
    /// A warning when the array looks like a feature matrix rather than class scores: a feature
    /// network's width (64 to 4096 columns, not the 1000/1001/1008 classes of the Inception classifiers)
    /// and values spread around zero like Gaussian features (about half negative).
    /// </summary>
    private static string? LooksLikeFeatures(FeatureMatrix input)
    {
        int d = input.Dim;
        if (d is 1000 or 1001 or 1008 || d < 64) return null;
        long negative = 0, total = 0;
        int rows = Math.Min(input.Rows, 512);
        for (int i = 0; i < rows; i++)
            foreach (float v in input.Row(i))
            {
                if (v < 0) negative++;
                total++;
            }
        double fraction = total == 0 ? 0 : (double)negative / total;
        bool gaussianLike = fraction is > 0.3 and < 0.7;
        bool featureWidth = d is 512 or 768 or 2048 or 4096 || (d & (d - 1)) == 0;
        if (!gaussianLike && !featureWidth) return null;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{input.Name}: warning: [{input.Rows}, {d}] looks like features, not class logits or probabilities " +
            $"({d} columns{(gaussianLike ? $", {100 * fraction:0}% of values negative" : "")}); Inception Score needs the classifier's output, e.g. [N, 1008] Inception logits");
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
