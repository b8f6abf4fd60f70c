using System.Diagnostics;

namespace GenMetrics.Cli;

/// <summary>
/// A one-line progress bar on stderr, drawn only when stderr is a terminal and only for work that has
/// already taken more than a second; nothing is drawn into logs or pipes.
/// </summary>
public sealed class ProgressBar(TextWriter writer, bool enabled)
{
    private readonly Stopwatch _clock = new();
    private string _label = "";
    private long _lastDrawTicks;
    private bool _drawn;

    /// <summary>Called at every <see cref="Start"/>, before anything is drawn (the context prints its pending notices).</summary>
    public Action? Starting { get; set; }

    public IProgress<double> Start(string label)
    {
        Starting?.Invoke();
        _label = label;
        _clock.Restart();
        _lastDrawTicks = 0;
        return new Reporter(this);
    }

    public void Clear()
    {
        if (!_drawn) return;
        lock (this)
        {
            writer.Write("\r" + new string(' ', ClearWidth()) + "\r");
            writer.Flush();
            _drawn = false;
        }
    }

    /// <summary>
    /// Blanks to overwrite the bar with: the terminal's width less one, at most 100. A terminal that reports
    /// 0 columns (some pseudo-terminals, `script`) or none at all gets the bar's own longest line instead.
    /// </summary>
    private static int ClearWidth()
    {
        int columns;
        try { columns = Console.WindowWidth; }
        catch (IOException) { columns = 0; }
        return columns > 1 ? Math.Min(columns - 1, 100) : 100;
    }

    private void Report(double fraction)
    {
        if (!enabled || _clock.ElapsedMilliseconds < 1000) return;
        long now = _clock.ElapsedTicks;
        if (fraction < 1 && now - _lastDrawTicks < Stopwatch.Frequency / 10) return;
        lock (this)
        {
            _lastDrawTicks = now;
            fraction = Math.Clamp(fraction, 0, 1);
            const int width = 30;
            int filled = (int)(fraction * width);
            double elapsed = _clock.Elapsed.TotalSeconds;
            string eta = fraction > 0.01 ? $" ETA {elapsed / fraction - elapsed,5:0}s" : "";
            writer.Write($"\r{_label} [{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,5:0.0}% {elapsed,5:0}s{eta}  ");
            writer.Flush();
            _drawn = true;
        }
    }

    private sealed class Reporter(ProgressBar bar) : IProgress<double>
    {
        public void Report(double value) => bar.Report(value);
    }
}
