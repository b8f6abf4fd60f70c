namespace GenMetrics.Generators;

/// <summary>
/// The truncation trick in W (StyleGAN): w' = w_avg + psi·(w − w_avg) on the first <c>cutoff</c> style layers
/// (all layers when there is no cutoff), computed in float64 and rounded once to float32.
/// </summary>
public static class Truncation
{
    public const double MinPsi = -1.0;
    public const double MaxPsi = 2.0;

    public static void CheckPsi(double psi, string source = "--psi")
    {
        if (!double.IsFinite(psi) || psi < MinPsi || psi > MaxPsi)
            throw InputException.For(source, $"psi {psi} is outside [{MinPsi}, {MaxPsi}] (1 means no truncation, 0 gives w_avg for every seed)");
    }

    /// <param name="ws">Row-major [n, layers, w] style vectors, changed in place.</param>
    /// <param name="n">Number of samples.</param>
    /// <param name="layers">Style layers L.</param>
    /// <param name="wAvg">The average w, length W.</param>
    /// <param name="psi">1 leaves ws unchanged; 0 gives w_avg.</param>
    /// <param name="cutoff">Truncate layers 0..cutoff−1 only; null for all layers.</param>
    public static void Apply(Span<float> ws, int n, int layers, ReadOnlySpan<float> wAvg, double psi, int? cutoff = null)
    {
        int w = wAvg.Length;
        if (ws.Length != (long)n * layers * w) throw new ArgumentException($"ws holds {ws.Length} floats, expected {n}x{layers}x{w}");
        CheckPsi(psi);
        if (cutoff is < 0) throw InputException.For("--truncation-cutoff", $"cutoff {cutoff} is negative");
        if (psi == 1.0) return;
        int truncated = Math.Min(cutoff ?? layers, layers);
        for (int i = 0; i < n; i++)
            for (int l = 0; l < truncated; l++)
            {
                var row = ws.Slice((i * layers + l) * w, w);
                for (int k = 0; k < w; k++) row[k] = (float)(wAvg[k] + psi * ((double)row[k] - wAvg[k]));
            }
    }
}
