using System.Globalization;

namespace GenMetrics.Cli;

/// <summary>Positional arguments and `--name value` / `--name=value` / `--flag` options, checked against the command's specs.</summary>
public sealed class ArgumentList
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public static ArgumentList Parse(IEnumerable<string> args, IReadOnlyList<OptionSpec> specs)
    {
        var result = new ArgumentList();
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (a == "--")
            {
                result.Positional.AddRange(list.Skip(i + 1));
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                if (name == "help")
                {
                    result._options["help"] = null;
                    continue;
                }
                var spec = specs.FirstOrDefault(s => s.Name == name)
                    ?? throw new UsageException($"unknown option --{name}");
                if (spec.TakesValue)
                {
                    if (value is null)
                    {
                        if (i + 1 >= list.Count) throw new UsageException($"--{name} needs a value");
                        value = list[++i];
                    }
                }
                else if (value is not null)
                {
                    throw new UsageException($"--{name} takes no value");
                }
                result._options[name] = value;
                continue;
            }
            if (a.Length == 2 && a[0] == '-' && a[1] != '-')
            {
                var shortSpec = specs.FirstOrDefault(s => s.Short == a[1])
                    ?? throw new UsageException($"unknown option {a}");
                if (shortSpec.TakesValue)
                {
                    if (i + 1 >= list.Count) throw new UsageException($"{a} needs a value");
                    result._options[shortSpec.Name] = list[++i];
                }
                else
                {
                    result._options[shortSpec.Name] = null;
                }
                continue;
            }
            result.Positional.Add(a);
        }
        return result;
    }

    public bool Flag(string name) => _options.ContainsKey(name);

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v : null;

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public int GetInt(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = Get(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new UsageException($"--{name} expects a whole number, got '{s}'");
        if (v < min || v > max)
            throw new UsageException($"--{name} must be between {min} and {max}, got {v}");
        return v;
    }

    public double GetDouble(string name, double fallback)
    {
        var s = Get(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new UsageException($"--{name} expects a number, got '{s}'");
        return v;
    }

    /// <summary>A comma-separated list of positive integers, e.g. `--k 3,5,10`.</summary>
    public int[]? GetIntList(string name, int min = 1)
    {
        var s = Get(name);
        if (s is null) return null;
        var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException($"--{name} expects a comma-separated list of whole numbers, got '{s}'");
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < min)
                throw new UsageException($"--{name}: '{parts[i]}' is not a whole number >= {min}");
        }
        return values;
    }

    /// <summary>Exactly <paramref name="count"/> positional arguments, named for the error message.</summary>
    public void RequirePositional(params string[] names)
    {
        if (Positional.Count < names.Length)
            throw new UsageException($"missing {string.Join(" and ", names.Skip(Positional.Count))}");
        if (Positional.Count > names.Length)
            throw new UsageException($"unexpected argument '{Positional[names.Length]}'");
    }
}
