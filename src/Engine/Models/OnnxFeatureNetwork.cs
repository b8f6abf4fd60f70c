using System.Security.Cryptography;
using GenMetrics.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace GenMetrics.Models;

/// <summary>
/// Runs an ONNX model with ONNX Runtime (CPU, or CUDA per <see cref="NetworkDevice"/>) and returns one named output as the features. The model
/// takes one float32 input [N, 3, H, W]; H and W come from the model when they are fixed there.
/// </summary>
public sealed class OnnxFeatureNetwork : IFeatureNetwork
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;

    public string Name { get; }
    public string CacheKey { get; }
    public int InputHeight { get; }
    public int InputWidth { get; }
    public int FeatureDim { get; }

    /// <summary>The device that runs the network: "cpu" or "cuda:N".</summary>
    public string Device { get; }

    /// <summary>The installed checkpoint this network was converted from; null for a user's own ONNX file.</summary>
    public FeatureProvenance? Provenance { get; init; }

    /// <param name="model">The ONNX file's bytes.</param>
    /// <param name="outputName">e.g. "pool3", "logits_unbiased", "fc2_relu".</param>
    /// <param name="name">Readable name, see <see cref="IFeatureNetwork.Name"/>.</param>
    /// <param name="source">File name for error messages.</param>
    /// <param name="inputHeight">Used only when the model leaves the input height symbolic.</param>
    /// <param name="inputWidth">Used only when the model leaves the input width symbolic.</param>
    /// <param name="threads">ONNX Runtime intra-op threads; 0 lets it choose.</param>
    /// <param name="device">Where to run (default CPU); see <see cref="NetworkDevice"/>.</param>
    /// <param name="notice">Told once when auto falls back to the CPU.</param>
    public OnnxFeatureNetwork(byte[] model, string outputName, string name, string source, int inputHeight = 0, int inputWidth = 0, int threads = 0,
        NetworkDevice? device = null, Action<string>? notice = null)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        Device = (device ?? NetworkDevice.Cpu).Configure(options, notice);
        try
        {
            _session = new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw InputException.For(source, $"ONNX Runtime cannot load the model: {e.Message}");
        }
        try
        {
            if (_session.InputMetadata.Count != 1) throw InputException.For(source, $"model has {_session.InputMetadata.Count} inputs, expected 1");
            var (inputName, input) = _session.InputMetadata.First();
            _inputName = inputName;
            var dims = input.Dimensions;
            if (dims.Length != 4 || (dims[1] > 0 && dims[1] != 3)) throw InputException.For(source, $"model input '{inputName}' is not [N, 3, H, W]");
            InputHeight = dims[2] > 0 ? dims[2] : inputHeight;
            InputWidth = dims[3] > 0 ? dims[3] : inputWidth;
            if (InputHeight <= 0 || InputWidth <= 0) throw InputException.For(source, "model input size is not fixed; give the input height and width (genmetrics: --network-size HxW)");
            if (!_session.OutputMetadata.TryGetValue(outputName, out var output))
                throw InputException.For(source, $"model has no output '{outputName}' (it has: {string.Join(", ", _session.OutputMetadata.Keys)})");
            if (output.Dimensions.Length != 2 || output.Dimensions[1] <= 0)
                throw InputException.For(source, $"output '{outputName}' is not [N, D] with a fixed D");
            _outputName = outputName;
            FeatureDim = output.Dimensions[1];
        }
        catch
        {
            _session.Dispose();
            throw;
        }
        Name = name;
        CacheKey = Convert.ToHexStringLower(SHA256.HashData(model)) + ":" + outputName;
    }

    public static OnnxFeatureNetwork Load(string path, string outputName, string? name = null, int threads = 0)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot read model: {IoErrors.Describe(e)}");
        }
        return new OnnxFeatureNetwork(bytes, outputName, name ?? $"{Path.GetFileNameWithoutExtension(path)}:{outputName}", path, threads: threads);
    }

    public void Run(ReadOnlySpan<float> batch, int n, Span<float> features)
    {
        long perImage = 3L * InputHeight * InputWidth;
        if (n < 0 || batch.Length != n * perImage) throw new ArgumentException($"batch holds {batch.Length} floats, expected {n}x3x{InputHeight}x{InputWidth}");
        if (features.Length != (long)n * FeatureDim) throw new ArgumentException($"features holds {features.Length} floats, expected {n}x{FeatureDim}");
        if (n == 0) return;
        var input = batch.ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(input, [n, 3, InputHeight, InputWidth]);
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, [_inputName], [value], [_outputName]);
        results[0].GetTensorDataAsSpan<float>().CopyTo(features);
    }

    /// <summary>Several outputs of one run (e.g. pool3 and logits_unbiased for FID and IS from one pass).</summary>
    public float[][] RunOutputs(ReadOnlySpan<float> batch, int n, IReadOnlyList<string> outputNames)
    {
        long perImage = 3L * InputHeight * InputWidth;
        if (n <= 0 || batch.Length != n * perImage) throw new ArgumentException($"batch holds {batch.Length} floats, expected {n}x3x{InputHeight}x{InputWidth}");
        foreach (var name in outputNames)
            if (!_session.OutputMetadata.ContainsKey(name)) throw new ArgumentException($"model has no output '{name}'");
        using var value = OrtValue.CreateTensorValueFromMemory(batch.ToArray(), [n, 3, InputHeight, InputWidth]);
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, [_inputName], [value], outputNames.ToArray());
        return results.Select(r => r.GetTensorDataAsSpan<float>().ToArray()).ToArray();
    }

    public void Dispose() => _session.Dispose();
}
