using Microsoft.ML.OnnxRuntime;

namespace GenMetrics.Generators;

/// <summary>One ONNX graph of a generator, with the checks that turn a mismatched description into a clear message.</summary>
internal sealed class OnnxGraph : IDisposable
{
    private readonly InferenceSession _session;

    public string Source { get; }
    public byte[] ModelBytes { get; }

    private OnnxGraph(InferenceSession session, string source, byte[] bytes)
    {
        _session = session;
        Source = source;
        ModelBytes = bytes;
    }

    public static OnnxGraph Load(string path, int threads)
    {
        if (!File.Exists(path)) throw InputException.For(path, "generator model file not found");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot read the model: {IoErrors.Describe(e)}");
        }
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        try
        {
            return new OnnxGraph(new InferenceSession(bytes, options), path, bytes);
        }
        catch (OnnxRuntimeException e)
        {
            throw InputException.For(path, $"ONNX Runtime cannot load the model: {e.Message}");
        }
    }

    public IReadOnlyList<string> InputNames => _session.InputMetadata.Keys.ToArray();

    /// <summary>The named input, or the only input when <paramref name="name"/> is null.</summary>
    public (string Name, int[] Dims) Input(string? name, string key) => Find(_session.InputMetadata, name, key, "input");

    public (string Name, int[] Dims) Output(string? name, string key) => Find(_session.OutputMetadata, name, key, "output");

    private (string, int[]) Find(IReadOnlyDictionary<string, NodeMetadata> nodes, string? name, string key, string what)
    {
        string list = string.Join(", ", nodes.Keys.Select(k => $"'{k}'"));
        if (name is null)
        {
            if (nodes.Count != 1) throw InputException.For(Source, $"the model has {nodes.Count} {what}s ({list}): name one with \"{key}\"");
            var (only, meta) = nodes.First();
            CheckFloat(only, meta, what);
            return (only, meta.Dimensions);
        }
        if (!nodes.TryGetValue(name, out var node))
            throw InputException.For(Source, $"the model has no {what} '{name}' (\"{key}\"); its {what}s are: {list}");
        CheckFloat(name, node, what);
        return (name, node.Dimensions);
    }

    private void CheckFloat(string name, NodeMetadata node, string what)
    {
        if (!node.IsTensor || node.ElementType != typeof(float))
            throw InputException.For(Source, $"{what} '{name}' is not a float32 tensor ({node.ElementDataType})");
    }

    /// <summary>Every model input must be one the description names: the generator cannot invent values for others.</summary>
    public void RequireOnlyInputs(IReadOnlyCollection<string> named)
    {
        var extra = _session.InputMetadata.Keys.Where(k => !named.Contains(k)).ToArray();
        if (extra.Length > 0)
            throw InputException.For(Source, $"model input{(extra.Length > 1 ? "s" : "")} {string.Join(", ", extra.Select(e => $"'{e}'"))} not named in the generator description (named: {string.Join(", ", named.Select(n => $"'{n}'"))})");
    }

    public (float[] Data, long[] Shape) Run(IReadOnlyList<(string Name, float[] Data, long[] Shape)> inputs, string output)
    {
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            foreach (var (_, data, shape) in inputs) values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, [output]);
            var shapeOut = results[0].GetTensorTypeAndShape().Shape;
            return (results[0].GetTensorDataAsSpan<float>().ToArray(), shapeOut);
        }
        catch (OnnxRuntimeException e)
        {
            throw InputException.For(Source, $"running the model failed: {e.Message}");
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>"[?, 4, 16]": a declared shape, with "?" for the sizes the model leaves open.</summary>
    public static string ShapeText(int[] dims) =>
        "[" + string.Join(", ", dims.Select(d => d > 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")) + "]";

    public void Dispose() => _session.Dispose();
}
