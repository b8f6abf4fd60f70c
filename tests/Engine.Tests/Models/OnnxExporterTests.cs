using GenMetrics.Models;

namespace GenMetrics.Tests.Models;

public class OnnxExporterTests
{
    /// <summary>Every layer kind once, with odd sizes so that padded borders matter for the pools.</summary>
    internal static NetworkSpec TinySpec() => new("tiny", 3, 9, 11,
    [
        new ConvLayer("c1", "input", "stem.conv", 3, 6, (3, 3), (2, 2), (1, 1), HasBias: false, "stem.bn", 0.001, Relu: true),
        new ConvLayer("c2", "c1", "b1", 6, 4, (1, 3), (1, 1), (0, 1), HasBias: true, null, 0, Relu: false),
        new AvgPoolLayer("p1", "c1", 3, 1, 1, CountIncludePad: false),
        new AvgPoolLayer("p2", "c1", 3, 1, 1, CountIncludePad: true),
        new MaxPoolLayer("p3", "c1", 3, 1, 1),
        new ConcatLayer("cat", ["c2", "p1", "p2", "p3"]),
        new ReluLayer("r", "cat"),
        new MaxPoolLayer("down", "r", 3, 2, 0),
        new FlattenLayer("flat", "down"),
        new GlobalAvgPoolLayer("pool", "r"),
        new LinearLayer("logits", "pool", "fc", 22, 5, UseBias: true),
        new LinearLayer("logits_unbiased", "pool", "fc", 22, 5, UseBias: false),
    ], [new("pool", 22), new("logits", 5), new("logits_unbiased", 5), new("flat", 22 * 2 * 2)]);

    [Test]
    public void TinyNetworkMatchesFloat64Reference()
    {
        var spec = TinySpec();
        var sd = SyntheticWeights.StateDict(spec.RequiredParameters());
        var model = OnnxExporter.ExportToBytes(spec, sd, "tiny");
        const int n = 2;
        var input = SyntheticWeights.Input(n * 3 * 9 * 11);
        var expected = ReferenceNetwork.Run(spec, sd, input, n);
        foreach (var output in spec.Outputs)
        {
            using var net = new OnnxFeatureNetwork(model, output.Name, "tiny", "tiny.onnx", threads: 1);
            Assert.That((net.InputHeight, net.InputWidth, net.FeatureDim), Is.EqualTo((9, 11, output.Dim)));
            var features = new float[n * output.Dim];
            net.Run(input, n, features);
            var want = expected[output.Name];
            double scale = want.Max(Math.Abs);
            for (int i = 0; i < want.Length; i++)
                Assert.That(features[i], Is.EqualTo(want[i]).Within(1e-5 * scale), $"{output.Name}[{i}]");
        }
    }

    [Test]
    public void MissingOrWrongShapedKeyIsNamed()
    {
        var spec = TinySpec();
        var sd = SyntheticWeights.StateDict(spec.RequiredParameters());
        sd.Remove("stem.bn.running_var");
        var e = Assert.Throws<InputException>(() => OnnxExporter.ExportToBytes(spec, sd, "ckpt.pth"));
        Assert.That(e!.Message, Does.Contain("ckpt.pth").And.Contain("stem.bn.running_var"));

        sd = SyntheticWeights.StateDict(spec.RequiredParameters());
        sd["fc.weight"] = new TorchTensor("float32", [5, 21], new float[105], null, null);
        e = Assert.Throws<InputException>(() => OnnxExporter.ExportToBytes(spec, sd, "ckpt.pth"));
        Assert.That(e!.Message, Does.Contain("fc.weight").And.Contain("[5, 21]"));
    }

    [Test]
    public void UnknownOutputIsNamed()
    {
        var spec = TinySpec();
        var model = OnnxExporter.ExportToBytes(spec, SyntheticWeights.StateDict(spec.RequiredParameters()), "tiny");
        var e = Assert.Throws<InputException>(() => new OnnxFeatureNetwork(model, "fc9", "tiny", "tiny.onnx").Dispose());
        Assert.That(e!.Message, Does.Contain("fc9").And.Contain("logits_unbiased"));
    }
}
