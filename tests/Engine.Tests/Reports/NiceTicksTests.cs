using GenMetrics.Reports;

namespace GenMetrics.Tests.Reports;

public class NiceTicksTests
{
    [TestCase(0.27, 0.93, 0.1, new[] { 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 })]
    [TestCase(0.0, 148.0, 20.0, new[] { 0.0, 20, 40, 60, 80, 100, 120, 140 })]
    [TestCase(0.265, 1.035, 0.1, new[] { 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 })]
    [TestCase(0.0, 0.8, 0.1, new[] { 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8 })]
    [TestCase(-3.0, 7.0, 2.0, new[] { -2.0, 0, 2, 4, 6 })]
    [TestCase(1000.0, 1001.0, 0.2, new[] { 1000.0, 1000.2, 1000.4, 1000.6, 1000.8, 1001.0 })]
    [TestCase(0.0, 3000.0, 500.0, new[] { 0.0, 500, 1000, 1500, 2000, 2500, 3000 })]
    public void StepIsTheSmallestOneTwoFiveWithAtMostEightIntervals(double min, double max, double step, double[] ticks)
    {
        Assert.That(NiceTicks.Step(min, max), Is.EqualTo(step).Within(1e-12 * step));
        // Exact equality: the ticks are rounded to the step's decimals, so 3 * 0.1 must be exactly 0.3.
        Assert.That(NiceTicks.Ticks(min, max), Is.EqualTo(ticks));
    }

    [Test]
    public void TheRuleHoldsOnManyRanges()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 2000; trial++)
        {
            double min = (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-4, 6));
            double max = min + random.NextDouble() * Math.Pow(10, random.Next(-4, 6)) + 1e-6;
            double step = NiceTicks.Step(min, max);
            double mantissa = step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9));
            Assert.That(new[] { 1.0, 2.0, 5.0 }.Any(m => Math.Abs(m - mantissa) < 1e-9), $"step {step} for [{min}, {max}]");
            Assert.That((max - min) / step, Is.LessThanOrEqualTo(8 * (1 + 1e-9)));
            double smaller = mantissa switch { < 1.5 => step / 2, < 3 => step / 2, _ => step * 0.4 };
            Assert.That((max - min) / smaller, Is.GreaterThan(8), $"a smaller nice step {smaller} would do for [{min}, {max}]");
            foreach (var tick in NiceTicks.Ticks(min, max))
                Assert.That(tick, Is.InRange(min - 1e-9 * step, max + 1e-9 * step));
        }
    }

    [TestCase(0.1, 1)]
    [TestCase(0.05, 2)]
    [TestCase(0.2, 1)]
    [TestCase(1.0, 0)]
    [TestCase(20.0, 0)]
    [TestCase(0.001, 3)]
    public void DecimalsShowTheStep(double step, int decimals)
    {
        Assert.That(NiceTicks.Decimals(step), Is.EqualTo(decimals));
    }
}
