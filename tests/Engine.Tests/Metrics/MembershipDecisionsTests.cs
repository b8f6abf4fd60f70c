using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Tests.Metrics;

/// <summary>
/// --precision tf32|fp16: the per-sample k-NN decisions, their comparison, and the Evaluator's report of how
/// many a cheaper arithmetic changed. Without a GPU the cheaper arithmetic is stood in for by a backend that
/// rounds the features to float16 before the CPU computes (what CUDA's fp16 mode does to its GEMM inputs);
/// the expected count comes from float64 brute force on both versions of the data.
/// </summary>
public class MembershipDecisionsTests
{
    // Complement and coverage flags as the nearest distances against the radii decide them.
    private static CrossReductions Reductions(int[] countLe, int[] countLt, float[] fakeNearest, bool[] realLe, bool[] realLt, float[] realNearest,
        float[] realRadii, float[] fakeRadii) => new()
    {
        FakeInsideRealCountLe = [countLe],
        FakeInsideRealCountLt = [countLt],
        RealInsideFakeLe = [realLe],
        RealInsideFakeLt = [realLt],
        RealCoveredLt = [realNearest.Select((d, j) => d < realRadii[j]).ToArray()],
        FakeComplementLt = [fakeNearest.Select((d, g) => d < fakeRadii[g]).ToArray()],
        FakeNearestRealDistanceSquared = fakeNearest,
        FakeNearestRealIndex = new int[fakeNearest.Length],
        RealNearestFakeDistanceSquared = realNearest,
    };

    [Test]
    public void CountsEachDifferingDecisionOnce()
    {
        float[] fakeRadii = [1f, 1f, 1f], realRadii = [2f, 2f];
        var a = MembershipDecisions.From([3],
            Reductions([1, 0, 2], [1, 0, 0], [0.5f, 3f, 0.5f], [true, false], [true, false], [1f, 5f], realRadii, fakeRadii));
        // Fake 1 enters a real ball (≤ and <: 2), fake 2 enters one strictly (1), fake 0's nearest real leaves
        // its own ball (1), real 1 becomes covered (1): 5 of the 3·(3 + 2) = 15 decisions differ.
        var b = MembershipDecisions.From([3],
            Reductions([1, 3, 2], [1, 3, 1], [1.5f, 3f, 0.5f], [true, false], [true, false], [1f, 1f], realRadii, fakeRadii));
        var c = b.CompareWith(a);
        Assert.That(c.Compared, Is.EqualTo(15));
        Assert.That(c.Changed, Is.EqualTo(5));
        Assert.That(c.ChangedFraction, Is.EqualTo(5.0 / 15));
        Assert.That(a.CompareWith(a).Changed, Is.Zero);
    }

    [Test]
    public void DecisionsOfDifferentPassesAreNotCompared()
    {
        var one = MembershipDecisions.From([3], Reductions([0], [0], [1f], [false], [false], [1f], [1f], [1f]));
        var other = MembershipDecisions.From([5], Reductions([0], [0], [1f], [false], [false], [1f], [1f], [1f]));
        Assert.Throws<ArgumentException>(() => one.CompareWith(other));
    }

    /// <summary>The CPU on features rounded to float16: a reduced-precision backend whose fp32 twin is the plain CPU.</summary>
    private sealed class HalfInputsBackend : IComputeBackend
    {
        private readonly CpuBackend _cpu = new();
        public int TwinsCreated { get; private set; }
        public string Name => "half-cpu";
        public string Description => "CPU on float16-rounded features (test stand-in for CUDA fp16)";
        public string DistancePrecision => "fp16";
        public IComputeBackend? CreateFp32Twin()
        {
            TwinsCreated++;
            return new CpuBackend();
        }

        public static FeatureMatrix Round(FeatureMatrix m)
        {
            var data = new float[m.Rows * m.Dim];
            for (int i = 0; i < m.Rows; i++)
                for (int c = 0; c < m.Dim; c++) data[i * m.Dim + c] = (float)(Half)m[i, c];
            return new FeatureMatrix(data, m.Rows, m.Dim, m.Name);
        }

        public KnnRadii KnnRadiiSquared(FeatureMatrix x, IReadOnlyList<int> ks, IProgress<double>? progress = null) => _cpu.KnnRadiiSquared(Round(x), ks, progress);
        public CrossReductions ReduceCrossDistances(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, IProgress<double>? progress = null) =>
            _cpu.ReduceCrossDistances(Round(fake), Round(real), request, progress);
        public GaussianStatistics ComputeStatistics(IRowBlockSource source, CovarianceDivisor divisor, IProgress<double>? progress = null) => _cpu.ComputeStatistics(source, divisor, progress);
        public double TraceSqrtProduct(double[] sigmaA, double[] sigmaB, int dim) => _cpu.TraceSqrtProduct(sigmaA, sigmaB, dim);
        public void MultiplyTransposed(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int dim, Span<float> c) => _cpu.MultiplyTransposed(a, m, b, n, dim, c);
        public void Dispose() => _cpu.Dispose();
    }

    private static FeatureMatrix Gaussian(int rows, int dim, int seed, double shift, string name)
    {
        var r = new Random(seed);
        var data = new float[rows * dim];
        for (int i = 0; i < data.Length; i++)
            data[i] = (float)(shift + Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));
        return new FeatureMatrix(data, rows, dim, name);
    }

    /// <summary>
    /// The six per-sample decision arrays of metrics-spec §6–§9 in float64 from all pairwise distances, and the
    /// number of them decided within <paramref name="band"/> of the boundary (where float32 may differ).
    /// </summary>
    private static (bool[][] Decisions, int Ambiguous) BruteForce(FeatureMatrix real, FeatureMatrix fake, int k, double band)
    {
        var rr = KnnReference.Pairwise(real, real);
        var ff = KnnReference.Pairwise(fake, fake);
        var fr = KnnReference.Pairwise(fake, real);
        double[] Radii(double[,] d, int n) => Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Select(j => d[i, j]).Order().ElementAt(k)).ToArray();
        var realRadii = Radii(rr, real.Rows);
        var fakeRadii = Radii(ff, fake.Rows);
        int ambiguous = 0;
        bool Decide(double d, double r, bool strict)
        {
            if (Math.Abs(d - r) <= band) ambiguous++;
            return strict ? d < r : d <= r;
        }
        var inLe = new bool[fake.Rows];
        var inLt = new bool[fake.Rows];
        var complement = new bool[fake.Rows];
        for (int g = 0; g < fake.Rows; g++)
        {
            double nearest = double.PositiveInfinity;
            for (int j = 0; j < real.Rows; j++)
            {
                inLe[g] |= Decide(fr[g, j], realRadii[j], strict: false);
                inLt[g] |= Decide(fr[g, j], realRadii[j], strict: true);
                nearest = Math.Min(nearest, fr[g, j]);
            }
            complement[g] = Decide(nearest, fakeRadii[g], strict: true);
        }
        var realLe = new bool[real.Rows];
        var realLt = new bool[real.Rows];
        var covered = new bool[real.Rows];
        for (int j = 0; j < real.Rows; j++)
        {
            double nearest = double.PositiveInfinity;
            for (int g = 0; g < fake.Rows; g++)
            {
                realLe[j] |= Decide(fr[g, j], fakeRadii[g], strict: false);
                realLt[j] |= Decide(fr[g, j], fakeRadii[g], strict: true);
                nearest = Math.Min(nearest, fr[g, j]);
            }
            covered[j] = Decide(nearest, realRadii[j], strict: true);
        }
        return ([inLe, inLt, complement, realLe, realLt, covered], ambiguous);
    }

    [Test]
    public void EvaluatorReportsTheDecisionsThatTheCheaperArithmeticChanged()
    {
        // Features with a large common offset, as network features have: float16 keeps 11 bits, so the
        // rounding moves each coordinate by up to 2^-6 at 60 and flips a few of the decisions.
        var real = Gaussian(240, 12, 11, 60.0, "real.npy");
        var fake = Gaussian(200, 12, 12, 60.3, "fake.npy");
        var realHalf = HalfInputsBackend.Round(real);
        var fakeHalf = HalfInputsBackend.Round(fake);
        // A float32 k-NN decision can differ from float64 only within a few ulps of the squared distances.
        const double band = 1e-4;
        var (exact, ambiguousExact) = BruteForce(real, fake, 3, band);
        var (half, ambiguousHalf) = BruteForce(realHalf, fakeHalf, 3, band);
        Assert.That(ambiguousExact + ambiguousHalf, Is.Zero, "no decision is a near-tie, so float32 and float64 agree on every one (pick another seed otherwise)");
        long expected = 0;
        for (int a = 0; a < exact.Length; a++)
            for (int i = 0; i < exact[a].Length; i++)
                if (exact[a][i] != half[a][i]) expected++;
        Assert.That(expected, Is.GreaterThan(0), "the rounding must change something for the test to mean anything");

        using var backend = new HalfInputsBackend();
        var options = new EvaluationOptions { Groups = [MetricGroup.Pr, MetricGroup.Prdc, MetricGroup.Sym], Ks = [3], CompareWithFp32 = true };
        var result = Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake), options, backend);

        Assert.That(backend.TwinsCreated, Is.EqualTo(1));
        Assert.That(result.DistancePrecision, Is.EqualTo("fp16"));
        Assert.That(result["membership_decisions"], Is.EqualTo(3 * (240 + 200)));
        Assert.That(result["membership_changed"], Is.EqualTo(expected));
        Assert.That(result["membership_changed_fraction"], Is.EqualTo(expected / (3.0 * (240 + 200))));
        // The metrics themselves are the reduced-precision ones, as asked.
        double halfPrecision = half[0].Count(b => b) / 200.0;
        Assert.That(result["precision"], Is.EqualTo(halfPrecision));
        Assert.That(result.Notes, Has.Some.Contains($"{expected} of {3 * (240 + 200)} membership decisions"));
        Assert.That(result.ToJson(), Does.Contain("\"distance_precision\": \"fp16\""));
    }

    [Test]
    public void WithoutTheCheckOnlyThePrecisionIsNamed()
    {
        var real = Gaussian(60, 4, 1, 0, "real.npy");
        var fake = Gaussian(50, 4, 2, 0.5, "fake.npy");
        using var backend = new HalfInputsBackend();
        var options = new EvaluationOptions { Groups = [MetricGroup.Pr], CompareWithFp32 = false };
        var result = Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake), options, backend);
        Assert.That(backend.TwinsCreated, Is.Zero);
        Assert.That(result.Contains("membership_changed"), Is.False);
        Assert.That(result.DistancePrecision, Is.EqualTo("fp16"));
        Assert.That(result.Notes, Has.Some.Contains("not compared with fp32"));
        Assert.That(result.ToTable(), Does.Contain("distance_precision  fp16"));
    }

    [Test]
    public void AnFp32BackendReportsNoPrecision()
    {
        var real = Gaussian(60, 4, 1, 0, "real.npy");
        var fake = Gaussian(50, 4, 2, 0.5, "fake.npy");
        using var cpu = new CpuBackend();
        var result = Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake), new EvaluationOptions { Groups = [MetricGroup.Pr] }, cpu);
        Assert.That(result.DistancePrecision, Is.Null);
        Assert.That(result.ToJson(), Does.Not.Contain("distance_precision"));
        Assert.That(result.Contains("membership_changed"), Is.False);
    }
}
