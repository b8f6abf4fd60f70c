using GenMetrics.Evaluation;
using GenMetrics.Models;

namespace GenMetrics.Imaging;

/// <summary>
/// A feature network and the output whose values are the features: <c>("inception", "pool3")</c>,
/// <c>("vgg16", "fc2_relu")</c>, or the path of an ONNX file and one of its outputs.
/// </summary>
/// <param name="Network">"inception" or "vgg16" (installed by <c>genmetrics models install</c>), or an ONNX file ([N,3,H,W] in).</param>
/// <param name="Layer">Output name: pool3, logits, logits_unbiased (Inception); fc2, fc2_relu (VGG-16); any [N,D] output of an ONNX file.</param>
public sealed record FeatureLayer(string Network, string Layer)
{
    /// <summary>Input height for an ONNX file whose input size is symbolic (0: the model's own).</summary>
    public int InputHeight { get; init; }

    /// <summary>Input width for an ONNX file whose input size is symbolic (0: the model's own).</summary>
    public int InputWidth { get; init; }

    /// <summary>FID-Inception pool3 [N, 2048]: FID and KID (pytorch-fid, clean-fid, torch-fidelity).</summary>
    public static FeatureLayer InceptionPool3 { get; } = new("inception", "pool3");

    /// <summary>FID-Inception pool3·Wᵀ [N, 1008] without the bias: the Inception Score (torch-fidelity, StyleGAN2-ADA).</summary>
    public static FeatureLayer InceptionLogitsUnbiased { get; } = new("inception", "logits_unbiased");

    /// <summary>VGG-16 fc2 after its ReLU [N, 4096]: the k-NN metrics and realism (NVIDIA vgg16.pt, torch-fidelity fc2_relu).</summary>
    public static FeatureLayer Vgg16Fc2Relu { get; } = new("vgg16", "fc2_relu");

    /// <summary>The layer a metric group is computed on. This is the one place that says which network serves which metric.</summary>
    public static FeatureLayer For(MetricGroup group) => group switch
    {
        MetricGroup.Fid or MetricGroup.Kid => InceptionPool3,
        MetricGroup.Pr or MetricGroup.Prdc or MetricGroup.Sym => Vgg16Fc2Relu,
        _ => throw new ArgumentOutOfRangeException(nameof(group)),
    };

    /// <summary>The Inception Score's layer.</summary>
    public static FeatureLayer ForInceptionScore => InceptionLogitsUnbiased;

    /// <summary>The realism score's layer (the same features as precision/recall).</summary>
    public static FeatureLayer ForRealism => Vgg16Fc2Relu;

    /// <summary>The installed model this names, or null for an ONNX file.</summary>
    public KnownModel? Model => KnownModel.Find(Network.ToLowerInvariant());

    /// <summary>
    /// Parses a --network value (inception, vgg16 or FILE.onnx) and an optional --layer; without a layer an
    /// installed model gets its default output (pool3, fc2_relu) and an ONNX file its only output (several
    /// outputs are an error that lists them).
    /// </summary>
    public static FeatureLayer Parse(string network, string? layer, int inputHeight = 0, int inputWidth = 0)
    {
        var model = KnownModel.Find(network.ToLowerInvariant());
        if (model is null && !network.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && !File.Exists(network))
            throw new InputException($"--network: '{network}' is neither inception, vgg16 nor an ONNX file");
        if (layer is null && model is null)
        {
            // An ONNX file without --layer: its only output is the features; with several, the user chooses.
            var outputs = OnnxOutputNames(network);
            if (outputs.Count != 1)
                throw new InputException($"{network}: the network has {outputs.Count} outputs ({string.Join(", ", outputs)}); choose the features with --layer NAME");
            return new FeatureLayer(network, outputs[0]) { InputHeight = inputHeight, InputWidth = inputWidth, IsOnlyOutput = true };
        }
        return new FeatureLayer(model?.Id ?? network, layer ?? model!.DefaultOutput) { InputHeight = inputHeight, InputWidth = inputWidth };
    }

    /// <summary>True when <see cref="Layer"/> was not given but is the ONNX file's only output.</summary>
    public bool IsOnlyOutput { get; init; }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, long, DateTime), IReadOnlyList<string>> OutputsSeen = new();

    /// <summary>The output names of an ONNX file (read once per file version).</summary>
    static IReadOnlyList<string> OnnxOutputNames(string path)
    {
        if (!File.Exists(path)) throw InputException.For(path, "no such file");
        var info = new FileInfo(path);
        return OutputsSeen.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), _ =>
        {
            try
            {
                using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL };
                using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path, options);
                return session.OutputMetadata.Keys.ToList();
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
            {
                throw InputException.For(path, $"ONNX Runtime cannot load the model: {e.Message}");
            }
        });
    }

    /// <summary>
    /// Opens the network: an installed model from <paramref name="store"/> (default: <see cref="ModelStore.Default"/>),
    /// or the ONNX file. Errors (not installed, no such output, unreadable file) are <see cref="InputException"/>s.
    /// </summary>
    public OnnxFeatureNetwork Open(ModelStore? store = null, NetworkDevice? device = null, Action<string>? notice = null)
    {
        if (Model is { } model) return (store ?? ModelStore.Default()).Open(model, Layer, device: device, notice: notice);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Network);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(Network, File.Exists(Network) ? $"cannot read model: {IoErrors.Describe(e)}" : "no such file");
        }
        return new OnnxFeatureNetwork(bytes, Layer, $"{Path.GetFileNameWithoutExtension(Network)}:{Layer}", Network, InputHeight, InputWidth, device: device, notice: notice);
    }

    public override string ToString() => $"{(Model is null ? Path.GetFileName(Network) : Network)} {Layer}{(IsOnlyOutput ? " (its only output)" : "")}";
}
