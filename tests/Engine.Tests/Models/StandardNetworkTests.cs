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
}
