namespace GenMetrics.Reports;

/// <summary>
/// Axis ticks on "nice" numbers. Rule: the step is the smallest value of the form {1, 2, 5} x 10^k for
/// which (max - min) / step is at most <c>maxIntervals</c> (8 by default); the ticks are the multiples of
/// the step that lie inside [min, max]. Examples: [0.27, 0.93] -> 0.3, 0.4, ..., 0.9 (step 0.1);
/// [0, 148] -> 0, 20, ..., 140 (step 20); [0.265, 1.035] -> 0.3, 0.4, ..., 1.0.
/// </summary>
public static class NiceTicks
{
    public const int DefaultMaxIntervals = 8;

    public static double Step(double min, double max, int maxIntervals = DefaultMaxIntervals)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max) || !(max > min))
            throw new ArgumentException($"tick range must be finite with max > min, got [{min}, {max}]");
        if (maxIntervals < 1) throw new ArgumentOutOfRangeException(nameof(maxIntervals));
        double target = (max - min) / maxIntervals;
        double decade = Math.Pow(10, Math.Floor(Math.Log10(target)));
        foreach (var mantissa in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            double step = mantissa * decade;
            // The small tolerance keeps a range of exactly 8 steps (0..0.8) from being pushed to the next step
            // by the rounding of 0.8 / 8.
            if ((max - min) / step <= maxIntervals * (1 + 1e-9)) return step;
        }
        return 10 * decade;
    }

    /// <summary>The tick values, each rounded to the step's decimal places so that 3 * 0.1 prints as 0.3.</summary>
    public static IReadOnlyList<double> Ticks(double min, double max, int maxIntervals = DefaultMaxIntervals)
    {
        double step = Step(min, max, maxIntervals);
        int decimals = Decimals(step);
        double tolerance = 1e-9 * step;
        long first = (long)Math.Ceiling((min - tolerance) / step);
        long last = (long)Math.Floor((max + tolerance) / step);
        var ticks = new List<double>();
        for (long k = first; k <= last; k++)
        {
            double value = Math.Round(k * step, Math.Min(decimals, 15));
            ticks.Add(value == 0 ? 0 : value); // no "-0"
        }
        return ticks;
    }

    /// <summary>Decimal places that show every multiple of <paramref name="step"/> exactly: 0.1 -> 1, 0.05 -> 2, 20 -> 0.</summary>
    public static int Decimals(double step) => Math.Max(0, (int)-Math.Floor(Math.Log10(step) + 1e-9));
}
