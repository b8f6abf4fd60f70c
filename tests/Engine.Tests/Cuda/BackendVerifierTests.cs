using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Verification;

namespace GenMetrics.Tests.Cuda;

public class BackendVerifierTests
{
    [Test]
    public void ErrorRatioMeasuresEachDifferenceAgainstItsAllowance()
    {
        // Allowance 1e-3·|a| + 1e-6: a residue of 5e-7 on a true 0 is half its allowance.
        Assert.That(BackendVerifier.ErrorRatio([0f, 2f], [5e-7f, 2f], 1e-3, 1e-6), Is.EqualTo(0.5).Within(1e-6));
        Assert.That(BackendVerifier.ErrorRatio([4f], [4.008f], 1e-3, 0), Is.EqualTo(2).Within(1e-3));
        Assert.That(BackendVerifier.ErrorRatio([1f], [float.NaN], 1, 1), Is.EqualTo(double.PositiveInfinity));
        Assert.That(BackendVerifier.ErrorRatio([1f], [1f, 2f], 1, 1), Is.EqualTo(double.PositiveInfinity));
    }

    [Test]
    public void AbsoluteAllowanceIsTheGramFormsRoundingBound()
    {
        using var cpu = new GenMetrics.Compute.CpuBackend();
        // float32 inputs (no input rounding): 4 · 2·scale · 2(D + 2)·2⁻²⁴ with D = 14 and scale = 2⁻⁷.
        double expected = 4 * 2 * Math.Pow(2, -7) * (2 * 16 * Math.Pow(2, -24));
        Assert.That(BackendVerifier.AbsoluteDistanceAllowance(cpu, 14, Math.Pow(2, -7)), Is.EqualTo(expected));
        Assert.That(BackendVerifier.InputRounding(cpu), Is.Zero);
    }

    /// <summary>The CPU with one deliberate fault, to show that each check can fail.</summary>
    private sealed class FaultyBackend(string fault) : IComputeBackend
    {
        private readonly CpuBackend _cpu = new();
        public string Name => "faulty";
        public string Description => $"CPU with fault '{fault}'";

        public KnnRadii KnnRadiiSquared(FeatureMatrix x, IReadOnlyList<int> ks, IProgress<double>? progress = null)
        {
            var r = _cpu.KnnRadiiSquared(x, ks, progress);
            if (fault == "radius") r[0][x.Rows / 2] *= 1.05;
            return r;
        }

        public CrossReductions ReduceCrossDistances(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, IProgress<double>? progress = null)
        {
            var c = _cpu.ReduceCrossDistances(fake, real, request, progress);
            int g = fake.Rows / 3, j = real.Rows / 3;
            switch (fault)
            {
                case "count": c.FakeInsideRealCountLe[0][g] += 3; break;
                case "flag": c.RealInsideFakeLt[0][j] = !c.RealInsideFakeLt[0][j]; break;
                case "nearest": c.FakeNearestRealDistanceSquared[g] *= 1.05f; break;
                case "argmin": c.FakeNearestRealIndex[g] = (c.FakeNearestRealIndex[g] + real.Rows / 2) % real.Rows; break;
                case "realism": c.Realism![g] *= 1.5f; break;
            }
            return c;
        }

        public GaussianStatistics ComputeStatistics(IRowBlockSource source, CovarianceDivisor divisor, IProgress<double>? progress = null)
        {
            var s = _cpu.ComputeStatistics(source, divisor, progress);
            if (fault == "covariance") s.Covariance[^1] *= 1 + 1e-6;
            return s;
        }

        public double TraceSqrtProduct(double[] sigmaA, double[] sigmaB, int dim) =>
            _cpu.TraceSqrtProduct(sigmaA, sigmaB, dim) * (fault == "sqrt" ? 1 + 1e-7 : 1);

        public void MultiplyTransposed(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int dim, Span<float> c)
        {
            _cpu.MultiplyTransposed(a, m, b, n, dim, c);
            if (fault == "gemm") c[c.Length / 2] += 1;
        }

        public void Dispose() => _cpu.Dispose();
    }

    [Test]
    public void TheCpuAgainstItselfPassesEveryCheck()
    {
        using var cpu = new CpuBackend();
        using var again = new CpuBackend();
        var lines = new BackendVerifier(cpu, again, seed: 3).Run();
        Assert.That(lines, Has.Count.GreaterThan(30));
        Assert.That(lines.Where(l => !l.Passed).Select(l => $"{l.Case} | {l.Quantity}: {l.Difference}"), Is.Empty);
    }

    [TestCase("radius", "radii")]
    [TestCase("count", "membership counts")]
    [TestCase("flag", "recall flags")]
    [TestCase("nearest", "nearest real distance")]
    [TestCase("argmin", "nearest-real index")]
    [TestCase("realism", "realism")]
    [TestCase("covariance", "covariance")]
    [TestCase("sqrt", "relative")]
    [TestCase("gemm", "max |C|")]
    public void EachKindOfFaultFailsItsCheck(string fault, string quantity)
    {
        using var cpu = new CpuBackend();
        using var faulty = new FaultyBackend(fault);
        var failed = new BackendVerifier(cpu, faulty, seed: 3).Run().Where(l => !l.Passed).ToList();
        Assert.That(failed, Is.Not.Empty, $"fault '{fault}' went unnoticed");
        Assert.That(failed.All(l => l.Quantity.Contains(quantity)), Is.True,
            string.Join("; ", failed.Select(l => $"{l.Case} | {l.Method} | {l.Quantity}")));
    }

    [Test]
    public void ScaledDifferenceIsRelativeToTheLargestEntry()
    {
        Assert.That(BackendVerifier.MaxScaledDifference([10, -20, 0], [10, -20, 2e-8]), Is.EqualTo(1e-9).Within(1e-15));
        Assert.That(BackendVerifier.MaxScaledDifference([0, 0], [0, 3]), Is.EqualTo(3));
    }

    [Test]
    public void LinePassesOnlyWithinTolerance()
    {
        Assert.That(new VerificationLine("c", "m", "q", 1e-10, 1e-9).Passed, Is.True);
        Assert.That(new VerificationLine("c", "m", "q", 2e-9, 1e-9).Passed, Is.False);
        Assert.That(new VerificationLine("c", "m", "q", double.PositiveInfinity, 0).Passed, Is.False);
    }
}
