namespace GenMetrics.Models;

/// <summary>
/// One step of a feed-forward network, reading and writing named activations. The list is our own
/// description of the reference architecture; <see cref="OnnxExporter"/> turns it plus a state_dict into ONNX.
/// </summary>
public abstract record Layer(string Output);

/// <summary>
/// Conv2d (PyTorch semantics: weight [out, in, kh, kw] under WeightPrefix + ".weight"). With a batch-norm
/// prefix the BN is folded into the conv; with HasBias the conv's own ".bias" is used; ReLU optionally after.
/// </summary>
public sealed record ConvLayer(
    string Output, string Input, string WeightPrefix, int InChannels, int OutChannels,
    (int H, int W) Kernel, (int H, int W) Stride, (int H, int W) Padding,
    bool HasBias, string? BatchNormPrefix, double BatchNormEps, bool Relu) : Layer(Output);

public sealed record ReluLayer(string Output, string Input) : Layer(Output);

public sealed record MaxPoolLayer(string Output, string Input, int Kernel, int Stride, int Padding) : Layer(Output);

/// <summary>CountIncludePad = false divides by the number of real (unpadded) pixels, as FID-Inception's pool branches do.</summary>
public sealed record AvgPoolLayer(string Output, string Input, int Kernel, int Stride, int Padding, bool CountIncludePad) : Layer(Output);

/// <summary>Concatenation along channels, in the listed order.</summary>
public sealed record ConcatLayer(string Output, string[] Inputs) : Layer(Output);

/// <summary>Mean over H and W, then flattened to [N, C].</summary>
public sealed record GlobalAvgPoolLayer(string Output, string Input) : Layer(Output);

/// <summary>[N, C, H, W] to [N, C·H·W] in PyTorch's flatten order.</summary>
public sealed record FlattenLayer(string Output, string Input) : Layer(Output);

/// <summary>y = x·Wᵀ (+ b): weight [out, in] under WeightPrefix + ".weight"; UseBias = false drops a bias the checkpoint has.</summary>
public sealed record LinearLayer(string Output, string Input, string WeightPrefix, int InFeatures, int OutFeatures, bool UseBias) : Layer(Output);

/// <summary>A named network output of [N, Dim].</summary>
public sealed record NetworkOutput(string Name, int Dim);

/// <summary>A network as a list of layers over the input "input" [N, InputChannels, InputHeight, InputWidth].</summary>
public sealed record NetworkSpec(string Name, int InputChannels, int InputHeight, int InputWidth, IReadOnlyList<Layer> Layers, IReadOnlyList<NetworkOutput> Outputs)
{
    public const string InputName = "input";

    /// <summary>Every state_dict entry the network reads, with the shape it must have.</summary>
    public IEnumerable<(string Key, long[] Shape)> RequiredParameters()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in Layers)
        {
            var list = new List<(string, long[])>();
            switch (layer)
            {
                case ConvLayer c:
                    list.Add(($"{c.WeightPrefix}.weight", [c.OutChannels, c.InChannels, c.Kernel.H, c.Kernel.W]));
                    if (c.HasBias) list.Add(($"{c.WeightPrefix}.bias", [c.OutChannels]));
                    if (c.BatchNormPrefix is { } bn)
                        foreach (var p in new[] { "weight", "bias", "running_mean", "running_var" })
                            list.Add(($"{bn}.{p}", [c.OutChannels]));
                    break;
                case LinearLayer l:
                    list.Add(($"{l.WeightPrefix}.weight", [l.OutFeatures, l.InFeatures]));
                    if (l.UseBias) list.Add(($"{l.WeightPrefix}.bias", [l.OutFeatures]));
                    break;
            }
            foreach (var (k, s) in list)
                if (seen.Add(k)) yield return (k, s);
        }
    }
}
