namespace GenMetrics.Cli;

/// <summary>One `genmetrics` sub-command. Implementations are found by reflection: one file per command.</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }

    /// <summary>The positional part of the usage line, e.g. "REAL FAKE [options]".</summary>
    string Usage { get; }

    IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>Where the command appears in `genmetrics --help` (lower first).</summary>
    int Order => 100;

    int Run(ArgumentList args, CommandContext context);
}

/// <summary>
/// A `--name VALUE` option (or a `--name` flag when <see cref="TakesValue"/> is false). `--help` is
/// added to every command.
/// </summary>
public sealed record OptionSpec(string Name, string Help, bool TakesValue = true, string? ValueName = null, char? Short = null, string? Default = null)
{
    public string Display => (Short is { } c ? $"-{c}, " : "") + (TakesValue ? $"--{Name} {ValueName ?? "VALUE"}" : $"--{Name}");

    public static OptionSpec Flag(string name, string help) => new(name, help, TakesValue: false);
}

/// <summary>A mistake in the command line itself (unknown option, missing argument): exit code 2 plus the usage line.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Output streams and the progress bar for one command run.</summary>
public sealed class CommandContext(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;
    public ProgressBar Progress { get; } = new(stderr, ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected);

    /// <summary>A message for the user (stderr, so stdout can carry JSON alone).</summary>
    public void Notice(string message)
    {
        Progress.Clear();
        Error.WriteLine(message);
    }
}
