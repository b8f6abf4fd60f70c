using GenMetrics.Models;

namespace GenMetrics.Tests.Models;

/// <summary>
/// The converted networks against PyTorch: Fixtures/models/make_fixtures.py ran the same architecture
/// (torchvision modules + the FID changes) with the same formula weights and inputs and saved the outputs.
/// </summary>
public class StandardNetworkTests
{
    private static void AssertClose(float[] actual, float[] expected, int offset, int count, string label)
    {
        double scale = 0;
        for (int i = 0; i < count; i++) scale = Math.Max(scale, Math.Abs(expected[offset + i]));
        Assert.That(scale, Is.GreaterThan(1e-3), $"{label}: the fixture is not degenerate");
        double worst = 0;
        for (int i = 0; i < count; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[offset + i]));
        TestContext.Out.WriteLine($"{label}: max |diff| {worst:g3}, max |ref| {scale:g3}");
        Assert.That(worst, Is.LessThanOrEqualTo(1e-4 * scale), label);
    }

    [Test]
    public void FidInceptionMatchesTorch()
    {
        var spec = StandardNetworks.FidInception();
        var sd = SyntheticWeights.StateDict(spec.RequiredParameters());
        Assert.That(sd.Values.Sum(t => t.ElementCount), Is.EqualTo(23_885_392), "entries of torch's state_dict without num_batches_tracked");
        var model = OnnxExporter.ExportToBytes(spec, sd, "synthetic");
        const int n = 2;
        var input = SyntheticWeights.Input(n * 3 * 299 * 299);
        var expected = SyntheticWeights.ReadFloats("fid_inception_outputs.bin");
        using var net = new OnnxFeatureNetwork(model, "pool3", "fid", "synthetic.onnx");
        Assert.That((net.InputHeight, net.InputWidth, net.FeatureDim), Is.EqualTo((299, 299, 2048)));
        string[] outputs = ["pool3", "logits", "logits_unbiased"];
        var results = net.RunOutputs(input, n, outputs);
        int offset = 0;
        for (int k = 0; k < outputs.Length; k++)
        {
            AssertClose(results[k], expected, offset, results[k].Length, outputs[k]);
            offset += results[k].Length;
        }
        var viaInterface = new float[n * 2048];
        net.Run(input, n, viaInterface);
        Assert.That(viaInterface, Is.EqualTo(results[0]));
        Assert.That(offset, Is.EqualTo(expected.Length));
    }

    /// <summary>138M parameters: regenerating and converting them takes a few seconds and ~3 GB of memory.</summary>
    [Test]
    [Category("Slow")]
    public void Vgg16MatchesTorch()
    {
        var spec = StandardNetworks.Vgg16();
        var sd = SyntheticWeights.StateDict(spec.RequiredParameters());
        Assert.That(sd.Values.Sum(t => t.ElementCount), Is.EqualTo(138_357_544 - 4096 * 1000 - 1000), "torchvision VGG-16 without its last classifier layer");
        string path = Path.Combine(Path.GetTempPath(), $"genmetrics-vgg16-{Environment.ProcessId}.onnx");
        try
        {
            using (var file = File.Create(path)) OnnxExporter.Export(spec, sd, "synthetic", file);
            sd.Clear();
            using var net = OnnxFeatureNetwork.Load(path, "fc2");
            Assert.That((net.InputHeight, net.InputWidth, net.FeatureDim), Is.EqualTo((224, 224, 4096)));
            var input = SyntheticWeights.Input(3 * 224 * 224);
            var results = net.RunOutputs(input, 1, ["fc2", "fc2_relu"]);
            var expected = SyntheticWeights.ReadFloats("vgg16_outputs.bin");
            AssertClose(results[0], expected, 0, 4096, "fc2");
            AssertClose(results[1], expected, 4096, 4096, "fc2_relu");
            Assert.That(results[0].Any(v => v < 0), Is.True, "fc2 is taken before the ReLU");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
