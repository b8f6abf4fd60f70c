using System.Diagnostics;

namespace GenMetrics;

/// <summary>
/// Wall-clock marks on stderr for profiling a run end to end, when the environment variable
/// GENMETRICS_TRACE_TIMES is set (to anything): milliseconds since the process started, CPU milliseconds of
/// the process, and the step's name. Off by default; costs one static bool test per mark when off.
/// </summary>
internal static class PhaseTrace
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("GENMETRICS_TRACE_TIMES") is not null;

    public static void Mark(string step)
    {
        if (Enabled) Write(step);
    }

    // Apart, so that a run without tracing never loads System.Diagnostics.Process to compile Mark.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Write(string step)
    {
        using var process = Process.GetCurrentProcess();
        double wall = (DateTime.Now - process.StartTime).TotalMilliseconds;
        Console.Error.WriteLine($"[trace] {wall,8:F1} ms wall {process.TotalProcessorTime.TotalMilliseconds,8:F1} ms cpu  {step}");
    }
}
