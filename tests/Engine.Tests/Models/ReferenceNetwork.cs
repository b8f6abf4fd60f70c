using GenMetrics.Models;

namespace GenMetrics.Tests.Models;

/// <summary>
/// A float64 plain-loop interpreter of a <see cref="NetworkSpec"/> with PyTorch semantics (BN applied after
/// the conv, not folded): the independent reference for the ONNX export on small networks.
/// </summary>
internal static class ReferenceNetwork
{
    private sealed record Act(double[] Data, int N, int C, int H, int W);

    public static Dictionary<string, double[]> Run(NetworkSpec spec, IReadOnlyDictionary<string, TorchTensor> sd, float[] input, int n)
    {
        var acts = new Dictionary<string, Act>
        {
            [NetworkSpec.InputName] = new(Array.ConvertAll(input, v => (double)v), n, spec.InputChannels, spec.InputHeight, spec.InputWidth),
        };
        foreach (var layer in spec.Layers)
        {
            acts[layer.Output] = layer switch
            {
                ConvLayer c => Conv(acts[c.Input], c, sd),
                ReluLayer r => Map(acts[r.Input], v => Math.Max(0, v)),
                MaxPoolLayer m => Pool(acts[m.Input], m.Kernel, m.Stride, m.Padding, max: true, countIncludePad: false),
                AvgPoolLayer a => Pool(acts[a.Input], a.Kernel, a.Stride, a.Padding, max: false, a.CountIncludePad),
                ConcatLayer cat => Concat(cat.Inputs.Select(i => acts[i]).ToArray()),
                GlobalAvgPoolLayer g => GlobalMean(acts[g.Input]),
                FlattenLayer f => acts[f.Input] with { C = acts[f.Input].C * acts[f.Input].H * acts[f.Input].W, H = 1, W = 1 },
                LinearLayer l => Linear(acts[l.Input], l, sd),
                _ => throw new NotSupportedException(),
            };
        }
        return spec.Outputs.ToDictionary(o => o.Name, o => acts[o.Name].Data);
    }

    private static Act Map(Act a, Func<double, double> f) => a with { Data = Array.ConvertAll(a.Data, v => f(v)) };

    private static Act Conv(Act x, ConvLayer c, IReadOnlyDictionary<string, TorchTensor> sd)
    {
        var w = sd[c.WeightPrefix + ".weight"].ToFloat64();
        int oh = (x.H + 2 * c.Padding.H - c.Kernel.H) / c.Stride.H + 1, ow = (x.W + 2 * c.Padding.W - c.Kernel.W) / c.Stride.W + 1;
        var y = new double[x.N * c.OutChannels * oh * ow];
        for (int n = 0; n < x.N; n++)
        for (int o = 0; o < c.OutChannels; o++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double s = c.HasBias ? sd[c.WeightPrefix + ".bias"].ToFloat64()[o] : 0;
            for (int ci = 0; ci < c.InChannels; ci++)
            for (int ki = 0; ki < c.Kernel.H; ki++)
            for (int kj = 0; kj < c.Kernel.W; kj++)
            {
                int r = i * c.Stride.H - c.Padding.H + ki, q = j * c.Stride.W - c.Padding.W + kj;
                if (r < 0 || r >= x.H || q < 0 || q >= x.W) continue;
                s += w[((o * c.InChannels + ci) * c.Kernel.H + ki) * c.Kernel.W + kj] * x.Data[((n * x.C + ci) * x.H + r) * x.W + q];
            }
            if (c.BatchNormPrefix is { } bn)
            {
                double mean = sd[bn + ".running_mean"].ToFloat64()[o], variance = sd[bn + ".running_var"].ToFloat64()[o];
                s = (s - mean) / Math.Sqrt(variance + c.BatchNormEps) * sd[bn + ".weight"].ToFloat64()[o] + sd[bn + ".bias"].ToFloat64()[o];
            }
            y[((n * c.OutChannels + o) * oh + i) * ow + j] = c.Relu ? Math.Max(0, s) : s;
        }
        return new Act(y, x.N, c.OutChannels, oh, ow);
    }

    private static Act Pool(Act x, int k, int stride, int pad, bool max, bool countIncludePad)
    {
        int oh = (x.H + 2 * pad - k) / stride + 1, ow = (x.W + 2 * pad - k) / stride + 1;
        var y = new double[x.N * x.C * oh * ow];
        for (int nc = 0; nc < x.N * x.C; nc++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            int count = 0;
            for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++)
            {
                int r = i * stride - pad + ki, q = j * stride - pad + kj;
                if (r < 0 || r >= x.H || q < 0 || q >= x.W) continue;
                double v = x.Data[(nc * x.H + r) * x.W + q];
                acc = max ? Math.Max(acc, v) : acc + v;
                count++;
            }
            y[(nc * oh + i) * ow + j] = max ? acc : acc / (countIncludePad ? k * k : count);
        }
        return new Act(y, x.N, x.C, oh, ow);
    }

    private static Act GlobalMean(Act x)
    {
        int hw = x.H * x.W;
        var y = new double[x.N * x.C];
        for (int nc = 0; nc < y.Length; nc++) y[nc] = x.Data.AsSpan(nc * hw, hw).ToArray().Sum() / hw;
        return new Act(y, x.N, x.C, 1, 1);
    }

    private static Act Concat(Act[] parts)
    {
        int c = parts.Sum(p => p.C), hw = parts[0].H * parts[0].W, n = parts[0].N;
        var y = new double[n * c * hw];
        for (int b = 0; b < n; b++)
        {
            int offset = 0;
            foreach (var p in parts)
            {
                Array.Copy(p.Data, b * p.C * hw, y, (b * c + offset) * hw, p.C * hw);
                offset += p.C;
            }
        }
        return new Act(y, n, c, parts[0].H, parts[0].W);
    }

    private static Act Linear(Act x, LinearLayer l, IReadOnlyDictionary<string, TorchTensor> sd)
    {
        var w = sd[l.WeightPrefix + ".weight"].ToFloat64();
        var y = new double[x.N * l.OutFeatures];
        for (int n = 0; n < x.N; n++)
        for (int o = 0; o < l.OutFeatures; o++)
        {
            double s = l.UseBias ? sd[l.WeightPrefix + ".bias"].ToFloat64()[o] : 0;
            for (int i = 0; i < l.InFeatures; i++) s += w[o * l.InFeatures + i] * x.Data[n * l.InFeatures + i];
            y[n * l.OutFeatures + o] = s;
        }
        return new Act(y, x.N, l.OutFeatures, 1, 1);
    }
}
