using GenMetrics.Features;

namespace GenMetrics.Tests.Metrics;

/// <summary>
/// Float64 brute-force k-NN metrics, straight from metrics-spec §0, §6–§9: all pairwise squared distances
/// as Σ(a−b)² in double (plain loops, nothing from the engine), radii by full sort, each metric as the spec
/// words it. With relativeTolerance: 0 it is the exact reference the engine must equal (KnnMetricsExactTests).
/// Membership comparisons whose float64 margin |d² − r²| is within <see cref="Tolerance"/> are
/// "ambiguous" (the engine's float32 Gram distances may legitimately decide them either way); every
/// metric is computed once deciding them all true (Upper) and once all false (Lower). All these metrics
/// are monotone in the membership decisions, so a correct engine lies within [Lower, Upper].
/// </summary>
internal sealed class KnnReference
{
    /// <param name="relativeTolerance">
    /// Ambiguity band relative to the mean squared norm about the real mean. Default: the classic bound
    /// on a float32 dot product's rounding error, (D+2)·u with u = 2⁻²⁴, times the two norms of the Gram
    /// form, times a safety factor 8 for rows with above-average norms.
    /// </param>
    public KnnReference(FeatureMatrix real, FeatureMatrix fake, double? relativeTolerance = null)
    {
        Real = real;
        Fake = fake;
        RealReal = Pairwise(real, real);
        FakeFake = Pairwise(fake, fake);
        FakeReal = Pairwise(fake, real);
        // Scale of the squared distances: the mean squared norm about the real mean.
        var mean = new double[real.Dim];
        for (int i = 0; i < real.Rows; i++)
            for (int c = 0; c < real.Dim; c++) mean[c] += real[i, c] / (double)real.Rows;
        double scale = 0;
        foreach (var m in new[] { real, fake })
            for (int i = 0; i < m.Rows; i++)
                for (int c = 0; c < m.Dim; c++) scale += (m[i, c] - mean[c]) * (m[i, c] - mean[c]) / (real.Rows + fake.Rows);
        Tolerance = (relativeTolerance ?? 8 * 2 * (real.Dim + 2) * Math.Pow(2, -24)) * scale;
    }

    public FeatureMatrix Real { get; }
    public FeatureMatrix Fake { get; }
    public double[,] RealReal { get; }
    public double[,] FakeFake { get; }
    public double[,] FakeReal { get; }
    public double Tolerance { get; }

    public static double[,] Pairwise(FeatureMatrix a, FeatureMatrix b)
    {
        var d = new double[a.Rows, b.Rows];
        for (int i = 0; i < a.Rows; i++)
            for (int j = 0; j < b.Rows; j++)
            {
                double s = 0;
                for (int c = 0; c < a.Dim; c++)
                {
                    double t = (double)a[i, c] - b[j, c];
                    s += t * t;
                }
                d[i, j] = s;
            }
        return d;
    }

    /// <summary>Radius² of every row: the (k+1)-th smallest of its row of squared distances, self included.</summary>
    public static double[] Radii(double[,] self, int k)
    {
        int n = self.GetLength(0);
        var radii = new double[n];
        var row = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) row[j] = self[i, j];
            Array.Sort(row);
            radii[i] = row[k];
        }
        return radii;
    }

    private readonly Dictionary<(double[,], int), double[]> _radii = [];

    private double[] CachedRadii(double[,] self, int k)
    {
        if (!_radii.TryGetValue((self, k), out var radii)) _radii[(self, k)] = radii = Radii(self, k);
        return radii;
    }

    /// <summary>Metric values at one k with ambiguous comparisons decided as <paramref name="ambiguousAs"/>.</summary>
    public Values Compute(int k, bool ambiguousAs)
    {
        var rReal = CachedRadii(RealReal, k);
        var rFake = CachedRadii(FakeFake, k);
        int nr = Real.Rows, nf = Fake.Rows;
        bool Ambiguous(double d, double r) => Tolerance > 0 && Math.Abs(d - r) <= Tolerance;
        bool Le(double d, double r) => Ambiguous(d, r) ? ambiguousAs : d <= r;
        bool Lt(double d, double r) => Ambiguous(d, r) ? ambiguousAs : d < r;

        int precisionLe = 0, precisionLt = 0, insideCountLt = 0, complement = 0;
        for (int g = 0; g < nf; g++)
        {
            bool anyLe = false, anyLt = false, anyRealInOwnBall = false;
            for (int j = 0; j < nr; j++)
            {
                anyLe |= Le(FakeReal[g, j], rReal[j]);
                if (Lt(FakeReal[g, j], rReal[j])) { anyLt = true; insideCountLt++; }
                anyRealInOwnBall |= Lt(FakeReal[g, j], rFake[g]);
            }
            precisionLe += anyLe ? 1 : 0;
            precisionLt += anyLt ? 1 : 0;
            complement += anyRealInOwnBall ? 1 : 0;
        }
        int recallLe = 0, recallLt = 0, covered = 0;
        for (int j = 0; j < nr; j++)
        {
            bool anyLe = false, anyLt = false, anyFakeInOwnBall = false;
            for (int g = 0; g < nf; g++)
            {
                anyLe |= Le(FakeReal[g, j], rFake[g]);
                anyLt |= Lt(FakeReal[g, j], rFake[g]);
                anyFakeInOwnBall |= Lt(FakeReal[g, j], rReal[j]);
            }
            recallLe += anyLe ? 1 : 0;
            recallLt += anyLt ? 1 : 0;
            covered += anyFakeInOwnBall ? 1 : 0;
        }
        double prdcP = (double)precisionLt / nf, prdcR = (double)recallLt / nr;
        double coverage = (double)covered / nr, comp = (double)complement / nf;
        return new Values(
            (double)precisionLe / nf, (double)recallLe / nr, prdcP, prdcR,
            insideCountLt / ((double)k * nf), coverage, comp, Math.Min(prdcP, comp), Math.Min(prdcR, coverage));
    }

    public sealed record Values(
        double Precision, double Recall, double PrdcPrecision, double PrdcRecall, double Density,
        double Coverage, double ComplementPrecision, double SymmetricPrecision, double SymmetricRecall)
    {
        public double[] ToArray() =>
            [Precision, Recall, PrdcPrecision, PrdcRecall, Density, Coverage, ComplementPrecision, SymmetricPrecision, SymmetricRecall];

        public static readonly string[] Names =
            ["Precision", "Recall", "PrdcPrecision", "PrdcRecall", "Density", "Coverage", "ComplementPrecision", "SymmetricPrecision", "SymmetricRecall"];
    }

    /// <summary>kynkaat realism: radii² above the percentile set to 0, then max_j r²_j / (d² + eps), in double.</summary>
    public double[] Realism(int k, double percentile, double eps)
    {
        var radii = Radii(RealReal, k);
        var sorted = (double[])radii.Clone();
        Array.Sort(sorted);
        double pos = (sorted.Length - 1) * percentile / 100;
        int lo = (int)Math.Floor(pos);
        double threshold = sorted[lo] + (sorted[Math.Min(lo + 1, sorted.Length - 1)] - sorted[lo]) * (pos - lo);
        var pruned = radii.Select(r => r > threshold ? 0 : r).ToArray();
        var scores = new double[Fake.Rows];
        for (int g = 0; g < Fake.Rows; g++)
        {
            double best = double.NegativeInfinity;
            for (int j = 0; j < Real.Rows; j++) best = Math.Max(best, pruned[j] / (FakeReal[g, j] + eps));
            scores[g] = best;
        }
        return scores;
    }

    public static FeatureMatrix Gaussian(int rows, int dim, int seed, float offset = 0f, float scale = 1f, string name = "features")
    {
        var rng = new System.Random(seed);
        var data = new float[rows * dim];
        for (int i = 0; i < data.Length; i++)
        {
            // Box–Muller; the test only needs some continuous spread, not a particular distribution.
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            data[i] = offset + scale * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return new FeatureMatrix(data, rows, dim, name);
    }
}
