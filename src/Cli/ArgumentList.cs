using System.CommandLine;

namespace GenMetrics.Cli;

/// <summary>
/// A command's parsed command line: a small typed view over System.CommandLine's <see cref="ParseResult"/>
/// that reads each option by its name (without "--"), so that a command's Run reads as before. Values
/// not given are the defaults of the declarations (<see cref="Opt"/>); the types must match them.
/// </summary>
public sealed class ArgumentList
{
    private readonly ParseResult _result;
    private readonly Command _command;

    public ArgumentList(ParseResult result, Command command)
    {
        _result = result;
        _command = command;
        Positional = command.Arguments.Select(a => result.GetResult(a))
            .Where(r => r is not null && r.Tokens.Count > 0).Select(r => r!.Tokens[0].Value).ToList();
    }

    /// <summary>The positional arguments given, in the order of their declarations.</summary>
    public IReadOnlyList<string> Positional { get; }

    /// <summary>
    /// The value of option --<paramref name="name"/>: its declared default when not given, and null (not,
    /// as System.CommandLine would give, an empty list) when it has none.
    /// </summary>
    public T Value<T>(string name)
    {
        var option = OptionOf(name);
        if (!option.HasDefaultValue && _result.GetResult(option) is null or { Implicit: true }) return default!;
        return _result.GetValue<T>(option.Name)!;
    }

    public string? Get(string name) => Value<string?>(name);

    public bool Flag(string name) => Value<bool>(name);

    public int GetInt(string name) => Value<int>(name);

    public int? GetOptionalInt(string name) => Value<int?>(name);

    public double GetDouble(string name) => Value<double>(name);

    public int[]? GetIntList(string name) => Value<int[]?>(name);

    /// <summary>
    /// The command's <paramref name="count"/> inputs: its positional arguments and the values of each
    /// --<paramref name="listOption"/> (an image list standing in for a folder), in the order they were
    /// written on the command line. Too few is a usage error naming the missing ones of <paramref name="names"/>
    /// (space-separated), too many one saying so.
    /// </summary>
    public IReadOnlyList<string> Inputs(int count, string listOption, string names)
    {
        var tokens = _command.Arguments.Select(a => _result.GetResult(a)).Where(r => r is not null).SelectMany(r => r!.Tokens).ToList();
        if (_result.GetResult(OptionOf(listOption)) is { Implicit: false } lists) tokens.AddRange(lists.Tokens);
        var all = _result.Tokens.ToList();
        var inputs = tokens.OrderBy(t => all.FindIndex(x => ReferenceEquals(x, t))).Select(t => t.Value).ToList();
        if (inputs.Count != count)
            throw new UsageException(inputs.Count < count
                ? $"missing {string.Join(' ', names.Split(' ').Skip(inputs.Count))}"
                : $"too many inputs: expected {names}, got {inputs.Count} (positional arguments and --{listOption} together)");
        ImageInputOptions.RefuseWithoutImages(this, inputs);
        return inputs;
    }

    /// <summary>Whether --<paramref name="name"/> was given on the command line (not merely defaulted).</summary>
    public bool Has(string name) => _result.GetResult(OptionOf(name)) is { Implicit: false };

    /// <summary>Whether this command declares --<paramref name="name"/> at all (shared helpers read options some commands lack).</summary>
    public bool Declares(string name) => _command.Options.Any(o => o.Name == "--" + name);

    private Option OptionOf(string name) =>
        _command.Options.FirstOrDefault(o => o.Name == "--" + name)
        ?? throw new InvalidOperationException($"genmetrics {_command.Name} declares no option --{name}");
}
