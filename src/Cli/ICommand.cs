using System.CommandLine;

namespace GenMetrics.Cli;

/// <summary>One `genmetrics` sub-command. Implementations are found by reflection: one file per command.</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }

    /// <summary>The positional part of the usage line, e.g. "REAL FAKE [options]".</summary>
    string Usage { get; }

    /// <summary>
    /// The command's System.CommandLine options and positional arguments, in the order of its help (declare
    /// them with <see cref="Opt"/>; shared sets such as <see cref="BackendOptions.Specs"/> are spread in with
    /// `..`). `--help` and `--quiet` are added to every command.
    /// </summary>
    IReadOnlyList<Symbol> Options { get; }

    /// <summary>Where the command appears in `genmetrics --help` (lower first).</summary>
    int Order => 100;

    int Run(ArgumentList args, CommandContext context);
}

/// <summary>A mistake in the command line itself (unknown option, missing argument): exit code 2 plus the usage line.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Output streams and the progress bar for one command run; with --quiet, notices are not printed.</summary>
public sealed class CommandContext(TextWriter stdout, TextWriter stderr, bool quiet = false)
{
    private readonly HashSet<string> _noticed = new(StringComparer.Ordinal);
    private readonly List<string> _pending = [];

    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;
    public bool Quiet { get; } = quiet;
    public ProgressBar Progress { get; } = new(stderr, !quiet && ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected);

    /// <summary>
    /// A notice about how the computation will run (the CPU fallback of --backend auto): printed when the
    /// computation starts (its first progress phase) or when the command succeeds, and never when an input
    /// error stops the command first, so that an error stays one line.
    /// </summary>
    public void NoticeWhenComputing(string message)
    {
        _pending.Add(message);
        Progress.Starting ??= FlushPendingNotices;
    }

    /// <summary>Prints the notices held by <see cref="NoticeWhenComputing"/>.</summary>
    public void FlushPendingNotices()
    {
        var pending = _pending.ToArray();
        _pending.Clear();
        foreach (var message in pending) Notice(message);
    }

    /// <summary>A message for the user (stderr, so stdout can carry JSON alone); each distinct message once, none with --quiet.</summary>
    public void Notice(string message)
    {
        if (Quiet || !_noticed.Add(message)) return;
        Progress.Clear();
        Error.WriteLine(message);
    }
}
