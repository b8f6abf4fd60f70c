using System.Runtime.InteropServices;

namespace GenMetrics.Models;

/// <summary>
/// Writes a <see cref="NetworkSpec"/> with weights from a PyTorch state_dict as an ONNX model (IR 8, opset 17,
/// float32), using only Conv, Relu, MaxPool, AveragePool, Concat, GlobalAveragePool, Flatten and Gemm.
/// Field numbers are those of onnx/onnx.proto.
/// </summary>
public static class OnnxExporter
{
    public const int OpsetVersion = 17;
    private const long IrVersion = 8;
    private const int FloatType = 1;

    /// <summary>Checks every key and shape the spec needs (extra keys are ignored) and writes the model to <paramref name="output"/>.</summary>
    public static void Export(NetworkSpec spec, IReadOnlyDictionary<string, TorchTensor> stateDict, string source, Stream output)
    {
        Validate(spec, stateDict, source);
        var graph = new ProtoMessage();
        graph.String(2, spec.Name);
        int nodeIndex = 0;
        var initializers = new List<ProtoMessage>();
        // Gemm layers sharing one weight (logits and logits_unbiased) reference a single initializer.
        var initializerNames = new HashSet<string>(StringComparer.Ordinal);

        void Node(string opType, string[] inputs, string output, params ProtoMessage[] attributes)
        {
            var node = new ProtoMessage();
            foreach (var i in inputs) node.String(1, i);
            node.String(2, output);
            node.String(3, $"{opType}_{nodeIndex++}");
            node.String(4, opType);
            foreach (var a in attributes) node.Message(5, a);
            graph.Message(1, node);
        }

        string Initializer(string name, float[] values, params long[] dims)
        {
            var t = new ProtoMessage();
            foreach (var d in dims) t.Varint(1, d);
            t.Varint(2, FloatType);
            t.String(8, name);
            t.Bytes(9, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            initializers.Add(t);
            initializerNames.Add(name);
            return name;
        }

        foreach (var layer in spec.Layers)
        {
            switch (layer)
            {
                case ConvLayer c:
                {
                    var (w, b) = ConvWeights(c, stateDict);
                    string wName = Initializer(c.WeightPrefix + ".weight", w, c.OutChannels, c.InChannels, c.Kernel.H, c.Kernel.W);
                    string bName = Initializer(c.WeightPrefix + ".bias", b, c.OutChannels);
                    string convOut = c.Relu ? c.Output + ".conv" : c.Output;
                    Node("Conv", [c.Input, wName, bName], convOut,
                        Ints("kernel_shape", c.Kernel.H, c.Kernel.W),
                        Ints("strides", c.Stride.H, c.Stride.W),
                        Ints("pads", c.Padding.H, c.Padding.W, c.Padding.H, c.Padding.W));
                    if (c.Relu) Node("Relu", [convOut], c.Output);
                    break;
                }
                case ReluLayer r:
                    Node("Relu", [r.Input], r.Output);
                    break;
                case MaxPoolLayer m:
                    Node("MaxPool", [m.Input], m.Output,
                        Ints("kernel_shape", m.Kernel, m.Kernel), Ints("strides", m.Stride, m.Stride),
                        Ints("pads", m.Padding, m.Padding, m.Padding, m.Padding));
                    break;
                case AvgPoolLayer a:
                    Node("AveragePool", [a.Input], a.Output,
                        Ints("kernel_shape", a.Kernel, a.Kernel), Ints("strides", a.Stride, a.Stride),
                        Ints("pads", a.Padding, a.Padding, a.Padding, a.Padding), Int("count_include_pad", a.CountIncludePad ? 1 : 0));
                    break;
                case ConcatLayer cat:
                    Node("Concat", cat.Inputs, cat.Output, Int("axis", 1));
                    break;
                case GlobalAvgPoolLayer g:
                    Node("GlobalAveragePool", [g.Input], g.Output + ".nchw");
                    Node("Flatten", [g.Output + ".nchw"], g.Output, Int("axis", 1));
                    break;
                case FlattenLayer f:
                    Node("Flatten", [f.Input], f.Output, Int("axis", 1));
                    break;
                case LinearLayer l:
                {
                    string wKey = l.WeightPrefix + ".weight";
                    if (!initializerNames.Contains(wKey))
                        Initializer(wKey, stateDict[wKey].ToFloat32(), l.OutFeatures, l.InFeatures);
                    var inputs = new List<string> { l.Input, wKey };
                    if (l.UseBias)
                    {
                        string bKey = l.WeightPrefix + ".bias";
                        if (!initializerNames.Contains(bKey)) Initializer(bKey, stateDict[bKey].ToFloat32(), l.OutFeatures);
                        inputs.Add(bKey);
                    }
                    Node("Gemm", inputs.ToArray(), l.Output, Int("transB", 1));
                    break;
                }
                default:
                    throw new NotSupportedException(layer.GetType().Name);
            }
        }
        foreach (var i in initializers) graph.Message(5, i);
        graph.Message(11, ValueInfo(NetworkSpec.InputName, spec.InputChannels, spec.InputHeight, spec.InputWidth));
        foreach (var o in spec.Outputs) graph.Message(12, ValueInfo(o.Name, o.Dim));

        var model = new ProtoMessage()
            .Varint(1, IrVersion)
            .String(2, "genmetrics")
            .String(3, "1")
            .Message(7, graph)
            .Message(8, new ProtoMessage().String(1, "").Varint(2, OpsetVersion));
        model.WriteTo(output);
    }

    public static byte[] ExportToBytes(NetworkSpec spec, IReadOnlyDictionary<string, TorchTensor> stateDict, string source)
    {
        using var ms = new MemoryStream();
        Export(spec, stateDict, source, ms);
        return ms.ToArray();
    }

    private static void Validate(NetworkSpec spec, IReadOnlyDictionary<string, TorchTensor> sd, string source)
    {
        foreach (var (key, shape) in spec.RequiredParameters())
        {
            if (!sd.TryGetValue(key, out var t))
                throw InputException.For(source, $"checkpoint has no '{key}' (is it a {spec.Name} state_dict?)");
            if (!t.Shape.SequenceEqual(shape))
                throw InputException.For(source, $"'{key}' has shape {t.ShapeText}, expected [{string.Join(", ", shape)}]");
            if (t.DType is not ("float32" or "float64" or "float16" or "bfloat16"))
                throw InputException.For(source, $"'{key}' is {t.DType}, expected floating point");
            foreach (var v in t.ToFloat32())
                if (!float.IsFinite(v)) throw InputException.For(source, $"'{key}' contains NaN or Inf");
        }
    }

    /// <summary>
    /// Folds eval-mode batch norm into the conv: W' = W·γ/√(σ²+ε), b' = β + (b − μ)·γ/√(σ²+ε), in float64 and
    /// rounded once. Differs from PyTorch's separate conv-then-BN only by float32 rounding (~1e-7 relative per layer).
    /// </summary>
    private static (float[] Weight, float[] Bias) ConvWeights(ConvLayer c, IReadOnlyDictionary<string, TorchTensor> sd)
    {
        var w = sd[c.WeightPrefix + ".weight"].ToFloat32();
        var bias = c.HasBias ? sd[c.WeightPrefix + ".bias"].ToFloat64() : new double[c.OutChannels];
        if (c.BatchNormPrefix is not { } bn) return (w, Array.ConvertAll(bias, v => (float)v));
        var gamma = sd[bn + ".weight"].ToFloat64();
        var beta = sd[bn + ".bias"].ToFloat64();
        var mean = sd[bn + ".running_mean"].ToFloat64();
        var variance = sd[bn + ".running_var"].ToFloat64();
        int perOut = w.Length / c.OutChannels;
        var folded = new float[w.Length];
        var b = new float[c.OutChannels];
        for (int o = 0; o < c.OutChannels; o++)
        {
            double scale = gamma[o] / Math.Sqrt(variance[o] + c.BatchNormEps);
            for (int k = 0; k < perOut; k++) folded[o * perOut + k] = (float)(w[o * perOut + k] * scale);
            b[o] = (float)(beta[o] + (bias[o] - mean[o]) * scale);
        }
        return (folded, b);
    }

    private static ProtoMessage Int(string name, long value) =>
        new ProtoMessage().String(1, name).Varint(3, value).Varint(20, 2);

    private static ProtoMessage Ints(string name, params long[] values)
    {
        var a = new ProtoMessage().String(1, name);
        foreach (var v in values) a.Varint(8, v);
        return a.Varint(20, 7);
    }

    /// <summary>A float tensor value [N, dims...] with a symbolic batch dimension.</summary>
    private static ProtoMessage ValueInfo(string name, params long[] dims)
    {
        var shape = new ProtoMessage().Message(1, new ProtoMessage().String(2, "N"));
        foreach (var d in dims) shape.Message(1, new ProtoMessage().Varint(1, d));
        var tensorType = new ProtoMessage().Varint(1, FloatType).Message(2, shape);
        return new ProtoMessage().String(1, name).Message(2, new ProtoMessage().Message(1, tensorType));
    }
}
