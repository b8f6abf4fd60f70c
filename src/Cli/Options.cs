using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace GenMetrics.Cli;

/// <summary>
/// Declarations of System.CommandLine options and arguments in one line each: the option's name (without
/// the leading "--"), its help, the value's name in the help (N, PATH, ...), its type and its default. The
/// parsers of the numeric types give the CLI's own one-line messages ("--n expects a whole number, got 'x'")
/// instead of System.CommandLine's, which name .NET types. When the help text does not already say its
/// default, " (default X)" is appended from the declared default, so the two cannot disagree.
/// </summary>
internal static class Opt
{
    /// <summary>A string option; <paramref name="defaultValue"/> is what the command reads when it is not given.</summary>
    public static Option<string?> Text(string name, string help, string valueName, string? defaultValue = null, char? shortName = null, string[]? suggestions = null)
    {
        var option = Create<string?>(name, help, valueName, shortName);
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        if (suggestions is not null) option.CompletionSources.Add(suggestions);
        return Described(option, defaultValue);
    }

    /// <summary>An option without a value: true when it is given.</summary>
    public static Option<bool> Flag(string name, string help)
    {
        var option = new Option<bool>("--" + name) { Description = help, Arity = ArgumentArity.Zero };
        return option;
    }

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> Int(string name, string help, string valueName, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        var option = Create<int>(name, help, valueName);
        option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = r => ParseInt(r, name, min, max) ?? defaultValue;
        return Described(option, defaultValue.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>], null when it is not given.</summary>
    public static Option<int?> OptionalInt(string name, string help, string valueName, int min = int.MinValue, int max = int.MaxValue)
    {
        var option = Create<int?>(name, help, valueName);
        option.CustomParser = r => ParseInt(r, name, min, max);
        return option;
    }

    /// <summary>A finite number.</summary>
    public static Option<double> Number(string name, string help, string valueName, double defaultValue)
    {
        var option = Create<double>(name, help, valueName);
        option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = r =>
        {
            string s = Single(r);
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)) return v;
            r.AddError($"--{name} expects a number, got '{s}'");
            return defaultValue;
        };
        return Described(option, defaultValue.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>A comma-separated list of whole numbers >= <paramref name="min"/>, e.g. `--k 3,5,10`; null when not given.</summary>
    public static Option<int[]?> IntList(string name, string help, string valueName, int min = 1)
    {
        var option = Create<int[]?>(name, help, valueName);
        option.Arity = ArgumentArity.ExactlyOne; // one comma-separated token: `--k 3 fake.npy` leaves fake.npy an input
        option.CustomParser = r =>
        {
            string s = Single(r);
            var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                r.AddError($"--{name} expects a comma-separated list of whole numbers, got '{s}'");
                return null;
            }
            var values = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < min)
                {
                    r.AddError($"--{name}: '{parts[i]}' is not a whole number >= {min}");
                    return null;
                }
            }
            return values;
        };
        return option;
    }

    /// <summary>A path option that may be given several times (`--list a.txt --list b.txt`); null when not given.</summary>
    public static Option<string[]?> Repeatable(string name, string help, string valueName)
    {
        var option = Create<string[]?>(name, help, valueName);
        option.Arity = ArgumentArity.OneOrMore;
        option.AllowMultipleArgumentsPerToken = false;
        lock (RepeatableOptions) RepeatableOptions.Add(option);
        return option;
    }

    /// <summary>The options declared with <see cref="Repeatable"/>; every other option may be given once only.</summary>
    private static readonly HashSet<Option> RepeatableOptions = [];

    /// <summary>Whether <paramref name="option"/> may be given several times (declared with <see cref="Repeatable"/>).</summary>
    public static bool IsRepeatable(Option option)
    {
        lock (RepeatableOptions) return RepeatableOptions.Contains(option);
    }

    /// <summary>A positional argument; optional ones may be left out (the command says what is missing).</summary>
    public static Argument<string> Positional(string name, string help, bool optional = false, string[]? suggestions = null)
    {
        var argument = new Argument<string>(name)
        {
            Description = help,
            Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
        };
        if (suggestions is not null) argument.CompletionSources.Add(suggestions);
        return argument;
    }

    private static Option<T> Create<T>(string name, string help, string valueName, char? shortName = null) =>
        shortName is { } c
            ? new Option<T>("--" + name, "-" + c) { Description = help, HelpName = valueName }
            : new Option<T>("--" + name) { Description = help, HelpName = valueName };

    private static Option<T> Described<T>(Option<T> option, string? defaultText)
    {
        if (defaultText is not null && option.Description is { } d && !d.Contains("default", StringComparison.Ordinal))
            option.Description = $"{d} (default {defaultText})";
        return option;
    }

    private static string Single(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";

    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        if (r.Tokens.Count == 0) return null;
        string s = Single(r);
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
        {
            r.AddError($"--{name} expects a whole number, got '{s}'");
            return null;
        }
        if (v < min || v > max)
        {
            r.AddError(max == int.MaxValue ? $"--{name} must be at least {min}, got {v}" : $"--{name} must be between {min} and {max}, got {v}");
            return null;
        }
        return v;
    }
}
