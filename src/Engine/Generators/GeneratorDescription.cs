using System.Text.Json;
using System.Text.Json.Serialization;

namespace GenMetrics.Generators;

/// <summary>
/// The contents of a generator description (<c>generator.json</c>, snake_case keys; docs/generators.md).
/// File names are relative to the description's folder.
/// </summary>
public sealed class GeneratorDescription
{
    /// <summary>"single" (one graph z -> image) or "stylegan" (mapping z -> w, synthesis ws -> image).</summary>
    public string? Kind { get; set; }

    // kind "single"
    public string? Model { get; set; }
    public string? LatentInput { get; set; }
    public string? Output { get; set; }
    /// <summary>Optional float input [1] (or scalar) that receives psi.</summary>
    public string? PsiInput { get; set; }
    /// <summary>Optional one-hot class input [N, C].</summary>
    public string? ClassInput { get; set; }

    // kind "stylegan"
    public string? Mapping { get; set; }
    public string? Synthesis { get; set; }
    public string? MappingInput { get; set; }
    public string? MappingOutput { get; set; }
    public string? SynthesisInput { get; set; }
    public string? SynthesisOutput { get; set; }
    public int? NumLayers { get; set; }
    /// <summary>An inline array of W numbers, or the name of a .npy holding them ([W] or [1, W]).</summary>
    public JsonElement? WAvg { get; set; }

    /// <summary>[low, high] of the image output; [-1, 1] when absent.</summary>
    public double[]? OutputRange { get; set; }

    public static GeneratorDescription Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot read the generator description: {IoErrors.Describe(e)}");
        }
        return Parse(bytes, path);
    }

    /// <summary>
    /// Parses and checks a description. Strict JSON (comments allowed, no trailing commas); an unknown key, a
    /// value of the wrong type or a syntax error is an <see cref="InputException"/> naming the key or the line.
    /// </summary>
    public static GeneratorDescription Parse(ReadOnlySpan<byte> json, string source)
    {
        GeneratorDescription? description;
        var typeInfo = GeneratorDescriptionJson.Default.GeneratorDescription;
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                var known = typeInfo.Properties.Select(p => p.Name).ToArray();
                foreach (var property in document.RootElement.EnumerateObject())
                    if (!known.Contains(property.Name, StringComparer.Ordinal))
                        throw InputException.For(source, $"not a valid generator description: unknown key \"{property.Name}\" (known keys: {string.Join(", ", known)})");
            }
            else if (document.RootElement.ValueKind != JsonValueKind.Null)
            {
                throw InputException.For(source, "not a valid generator description: it must be a JSON object ({ \"kind\": ... })");
            }
        }
        catch (JsonException e)
        {
            throw InputException.For(source, $"not a valid generator description: {Describe(e)}");
        }
        try
        {
            description = JsonSerializer.Deserialize(json, typeInfo);
        }
        catch (JsonException e)
        {
            // A value of the wrong type: name the key and what it takes, not the .NET type.
            string key = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "?";
            int bracket = key.IndexOf('[');
            string bare = bracket > 0 ? key[..bracket] : key;
            throw InputException.For(source, $"not a valid generator description: \"{key}\" must be {ExpectedValue(bare)}");
        }
        if (description is null) throw InputException.For(source, "the generator description is empty (null)");
        description.Validate(source);
        return description;
    }

    private static string ExpectedValue(string key) => key switch
    {
        "num_layers" => "a whole number",
        "output_range" => "[low, high] (two numbers)",
        "w_avg" => "an array of numbers or the name of a .npy file",
        _ => "a string",
    };

    /// <summary>System.Text.Json's syntax error as a user reads it: what is wrong, at which line and column (1-based).</summary>
    private static string Describe(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        message = message.Replace(" Change the reader options.", "", StringComparison.Ordinal);
        if (message.Contains("trailing comma", StringComparison.OrdinalIgnoreCase)) message = "a trailing comma (JSON allows none)";
        string where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}: " : "";
        return where + message.TrimEnd('.');
    }

    private void Validate(string source)
    {
        switch (Kind)
        {
            case "single":
                Require(Model, "model", source);
                break;
            case "stylegan":
                Require(Mapping, "mapping", source);
                Require(Synthesis, "synthesis", source);
                if (NumLayers is not { } layers) throw InputException.For(source, "a stylegan description needs \"num_layers\" (the number of style layers L)");
                if (layers < 1) throw InputException.For(source, $"\"num_layers\" is {layers}, must be at least 1");
                if (WAvg is { } w && w.ValueKind is not (JsonValueKind.Array or JsonValueKind.String or JsonValueKind.Null))
                    throw InputException.For(source, "\"w_avg\" must be an array of numbers or the name of a .npy file");
                break;
            case null:
                throw InputException.For(source, "missing \"kind\" (\"single\" or \"stylegan\")");
            default:
                throw InputException.For(source, $"unknown \"kind\" '{Kind}' (expected \"single\" or \"stylegan\")");
        }
        if (OutputRange is { } range)
        {
            if (range.Length != 2 || !double.IsFinite(range[0]) || !double.IsFinite(range[1]) || range[1] <= range[0])
                throw InputException.For(source, "\"output_range\" must be [low, high] with low < high");
        }
    }

    private static void Require(string? value, string key, string source)
    {
        if (string.IsNullOrWhiteSpace(value)) throw InputException.For(source, $"a {(key == "model" ? "single" : "stylegan")} description needs \"{key}\" (an ONNX file name)");
    }
}

/// <summary>Source-generated parsing: no reflection, so NativeAOT builds stay clean.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = false, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(GeneratorDescription))]
internal sealed partial class GeneratorDescriptionJson : JsonSerializerContext;
