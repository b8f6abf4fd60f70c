using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace GenMetrics.Evaluation;

/// <summary>
/// The numbers of one evaluation as a flat, ordered list of (key, value): `fid`, `kid_mean`, `kid_std`,
/// `precision`, `recall`, `prdc_precision`, `prdc_recall`, `density`, `coverage`, `sym_precision`, `sym_recall`, `comp_precision` for
/// what was asked (k-dependent keys suffixed `_k3`, `_k5`, ... when several k were asked), then
/// `n_real`, `n_fake`, `dim`, `k` (and `distance_precision` when it was not fp32), then `convention` and
/// each resolved choice of it (`cov_divisor`, `seed`, `comparison`, ...) when the options came from one.
/// Keys come from <see cref="MetricRegistry"/>.
/// </summary>
public sealed class EvaluationResult
{
    private readonly List<KeyValuePair<string, double>> _values = [];

    public IReadOnlyList<KeyValuePair<string, double>> Values => _values;

    /// <summary>Samples in the real set; null when it was given as statistics, which do not record it.</summary>
    public long? NReal { get; init; }

    /// <summary>Samples in the generated set; null when it was given as statistics.</summary>
    public long? NFake { get; init; }
    public int Dim { get; init; }

    /// <summary>
    /// Arithmetic of the k-NN distance GEMMs when it was not fp32 ("tf32", "fp16"); null for fp32. With it the
    /// result carries `membership_decisions`, `membership_changed` and `membership_changed_fraction`: the
    /// per-sample k-NN decisions compared with an fp32 run on the same data, and how many differ.
    /// </summary>
    public string? DistancePrecision { get; init; }

    /// <summary>
    /// The installed checkpoints whose features were measured (images only), written as `feature_networks`:
    /// model, layer, the checkpoint's SHA-256 and whether it was the official one ("verified": false after
    /// `models install --allow-unverified`).
    /// </summary>
    public IReadOnlyList<Models.FeatureProvenance> FeatureNetworks { get; init; } = [];

    /// <summary>The distinct k used by the k-NN groups asked for (empty when none was asked).</summary>
    public IReadOnlyList<int> Ks { get; init; } = [];

    /// <summary>Name of the convention the options were resolved from (e.g. "torch-fidelity"; "genmetrics" for the defaults); null when none.</summary>
    public string? Convention { get; set; }

    /// <summary>The convention's resolved choices that apply to this result, written to the JSON after `convention`.</summary>
    public IReadOnlyList<ConventionChoice> Choices { get; set; } = [];

    /// <summary>
    /// Keys among <see cref="Choices"/> (and "k") whose values are GenMetrics' defaults because the convention's
    /// tool does not compute that metric (e.g. precision/recall under pytorch-fid); written to the JSON as
    /// `genmetrics_defaults` when not empty.
    /// </summary>
    public IReadOnlyList<string> GenMetricsDefaults { get; set; } = [];

    /// <summary>Notes for the reader (e.g. the KID subset size was reduced), printed on stderr by the CLI.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>
    /// Adds one number. A NaN or infinite value is never a result: it is an <see cref="InputException"/>
    /// naming the metric stage and the key (the arithmetic overflowed or was undefined for these inputs).
    /// </summary>
    public void Add(string key, double value)
    {
        if (!double.IsFinite(value)) throw NonFinite(key, value);
        _values.Add(new(key, value));
    }

    /// <summary>The error for a NaN or infinite result: names the stage (fid, kid, pr, prdc, sym) and the key.</summary>
    public static InputException NonFinite(string key, double value)
    {
        string stage = key switch
        {
            "fid" => "fid",
            _ when key.StartsWith("kid", StringComparison.Ordinal) => "kid",
            _ when key.StartsWith("precision", StringComparison.Ordinal) || key.StartsWith("recall", StringComparison.Ordinal) => "pr",
            _ when key.StartsWith("density", StringComparison.Ordinal) || key.StartsWith("coverage", StringComparison.Ordinal) => "prdc",
            _ when key.StartsWith("sym_", StringComparison.Ordinal) || key.StartsWith("comp_", StringComparison.Ordinal) => "sym",
            _ => key,
        };
        string what = double.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";
        return new InputException($"{stage}: {key} came out {what}, not a number to report: the arithmetic overflowed or was undefined for these inputs " +
            "(features of very large magnitude overflow float32 kernels and distances; rescale the features)");
    }

    public double this[string key] => _values.First(v => v.Key == key).Value;

    public bool Contains(string key) => _values.Any(v => v.Key == key);

    /// <summary>One flat JSON object; doubles round-trip exactly.</summary>
    public string ToJson() => ToJson(null);

    /// <summary>A JSON array of one object per result, each led by a parameter (e.g. "psi") and its value.</summary>
    public static string ToJsonArray(string parameter, IEnumerable<(double Value, EvaluationResult Result)> rows) =>
        "[\n" + string.Join(",\n", rows.Select(r => r.Result.ToJson((parameter, r.Value)))) + "\n]";

    private string ToJson((string Key, double Value)? leading)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (leading is { } first) w.WriteNumber(first.Key, first.Value);
            foreach (var (key, value) in _values)
            {
                if (double.IsFinite(value)) w.WriteNumber(key, value);
                else w.WriteNull(key);
            }
            WriteCount(w, "n_real", NReal);
            WriteCount(w, "n_fake", NFake);
            w.WriteNumber("dim", Dim);
            if (Ks.Count == 1) w.WriteNumber("k", Ks[0]);
            else if (Ks.Count > 1)
            {
                w.WriteStartArray("k");
                foreach (int k in Ks) w.WriteNumberValue(k);
                w.WriteEndArray();
            }
            if (DistancePrecision is not null) w.WriteString("distance_precision", DistancePrecision);
            if (Convention is not null)
            {
                w.WriteString("convention", Convention);
                foreach (var choice in Choices)
                {
                    switch (choice.Value)
                    {
                        case int i: w.WriteNumber(choice.Key, i); break;
                        case bool b: w.WriteBoolean(choice.Key, b); break;
                        default: w.WriteString(choice.Key, choice.Text); break;
                    }
                }
                if (GenMetricsDefaults.Count > 0)
                {
                    w.WriteStartArray("genmetrics_defaults");
                    foreach (var key in GenMetricsDefaults) w.WriteStringValue(key);
                    w.WriteEndArray();
                }
            }
            if (FeatureNetworks.Count > 0)
            {
                w.WriteStartArray("feature_networks");
                foreach (var n in FeatureNetworks)
                {
                    w.WriteStartObject();
                    w.WriteString("model", n.Model);
                    w.WriteString("layer", n.Layer);
                    w.WriteString("checkpoint_sha256", n.CheckpointSha256);
                    w.WriteBoolean("verified", n.Verified);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteCount(Utf8JsonWriter w, string key, long? count)
    {
        if (count is { } n) w.WriteNumber(key, n);
        else w.WriteNull(key);
    }

    /// <summary>A readable two-column table.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        int width = Math.Max(DistancePrecision is null ? 8 : "distance_precision".Length, _values.Count == 0 ? 0 : _values.Max(v => v.Key.Length)) + 2;
        foreach (var (key, value) in _values)
            sb.Append(key.PadRight(width)).AppendLine(CountKeys.Contains(key) ? value.ToString("0", CultureInfo.InvariantCulture) : FormatValue(value));
        sb.Append("n_real".PadRight(width)).AppendLine(NReal?.ToString(CultureInfo.InvariantCulture) ?? "(statistics)");
        sb.Append("n_fake".PadRight(width)).AppendLine(NFake?.ToString(CultureInfo.InvariantCulture) ?? "(statistics)");
        sb.Append("dim".PadRight(width)).AppendLine(Dim.ToString(CultureInfo.InvariantCulture));
        if (Ks.Count > 0) sb.Append("k".PadRight(width)).AppendLine(string.Join(",", Ks));
        if (DistancePrecision is not null) sb.Append("distance_precision".PadRight(width)).AppendLine(DistancePrecision);
        return sb.ToString();
    }

    // Keys whose values are counts: printed as whole numbers in the table.
    private static readonly HashSet<string> CountKeys = [MetricRegistry.RefinedDecisions, MetricRegistry.MembershipDecisions, MetricRegistry.MembershipChanged];

    public static string FormatValue(double v) =>
        !double.IsFinite(v) ? v.ToString(CultureInfo.InvariantCulture)
        : Math.Abs(v) >= 1e-3 || v == 0 ? v.ToString("0.000000", CultureInfo.InvariantCulture)
        : v.ToString("0.000000e+00", CultureInfo.InvariantCulture);
}
