namespace GenMetrics;

/// <summary>
/// A problem the user can fix: a missing or malformed file, a wrong shape, NaN/Inf values, too few samples
/// for k, mismatched dimensions. The message names the file (when there is one) and the problem; the CLI
/// prints it on one line and exits with code 2. Everything else is a bug.
/// </summary>
public sealed class InputException : Exception
{
    public InputException(string message) : base(message) { }
    public InputException(string message, Exception inner) : base(message, inner) { }

    /// <summary>"FILE: problem", or just the problem when there is no file.</summary>
    public static InputException For(string? source, string problem) =>
        new(string.IsNullOrEmpty(source) ? problem : $"{source}: {problem}");
}
