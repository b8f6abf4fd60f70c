using GenMetrics.Imaging;
using GenMetrics.Models;

namespace GenMetrics.Tests.Models;

/// <summary>
/// Choosing where ONNX Runtime runs a feature network. On a machine without CUDA 13 / cuDNN 9 (this one,
/// and CI) the CUDA provider cannot load: cuda must be one error naming the library, auto must tell once
/// and run on the CPU with the CPU's exact features. With a GPU, cuda must agree with the CPU within
/// 1e-5 × max (ignored without one, saying why).
/// </summary>
public class NetworkDeviceTests
{
    static string Network => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "imaging", "networks", "flatten4x4.onnx");

    static bool CudaProviderLoads()
    {
        try
        {
            using var probe = new OnnxFeatureNetwork(File.ReadAllBytes(Network), "values", "probe", Network, device: new NetworkDevice("cuda"));
            return true;
        }
        catch (InputException)
        {
            return false;
        }
    }

    [TestCase("cpu", "cpu", 0, false)]
    [TestCase("auto", "auto", 0, false)]
    [TestCase("cuda", "cuda", 0, false)]
    [TestCase("CUDA:3", "cuda", 3, false)]
    public void Parses(string text, string kind, int id, bool tf32) =>
        Assert.That(NetworkDevice.Parse(text), Is.EqualTo(new NetworkDevice(kind, id, tf32)));

    [Test]
    public void ParsesPrecisionAndRefusesNonsense()
    {
        Assert.That(NetworkDevice.Parse("cuda:1", "tf32"), Is.EqualTo(new NetworkDevice("cuda", 1, true)));
        Assert.That(Assert.Throws<InputException>(() => NetworkDevice.Parse("gpu"))!.Message, Does.Contain("auto, cpu, cuda or cuda:N"));
        Assert.Throws<InputException>(() => NetworkDevice.Parse("cuda:-1"));
        Assert.That(Assert.Throws<InputException>(() => NetworkDevice.Parse("cuda", "fp16"))!.Message, Does.Contain("fp32 or tf32"));
    }

    [Test]
    public void TheLoaderMessageBecomesTheMissingLibrary()
    {
        string ort = "[ONNXRuntimeError] : 1 : FAIL : Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory";
        Assert.That(NetworkDevice.ExplainCudaFailure(ort), Does.StartWith("libcudnn.so.9 not found"));
        Assert.That(NetworkDevice.ExplainCudaFailure("LoadLibrary failed with error 126 \"\" when trying to load \"C:\\\\x\\\\cudnn64_9.dll\""), Does.StartWith("cudnn64_9.dll not found"));
        Assert.That(NetworkDevice.ExplainCudaFailure("something else\nsecond line"), Is.EqualTo("something else"));
    }

    [Test]
    public void WithoutTheCudaProviderCudaIsOneErrorAndAutoRunsOnTheCpu()
    {
        if (CudaProviderLoads()) Assert.Ignore("the CUDA provider loads on this machine: the fallback cannot be observed");
        var bytes = File.ReadAllBytes(Network);
        var e = Assert.Throws<InputException>(() => new OnnxFeatureNetwork(bytes, "values", "n", Network, device: NetworkDevice.Parse("cuda")));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e.Message, Does.StartWith("--device cuda:0: the ONNX Runtime CUDA provider cannot load: "));
        Assert.That(e.Message.Split('\n'), Has.Length.EqualTo(1));

        var notices = new List<string>();
        using var auto = new OnnxFeatureNetwork(bytes, "values", "n", Network, device: NetworkDevice.Auto, notice: notices.Add);
        using var cpu = new OnnxFeatureNetwork(bytes, "values", "n", Network);
        Assert.That((auto.Device, cpu.Device), Is.EqualTo(("cpu", "cpu")));
        Assert.That(notices.Count, Is.LessThanOrEqualTo(1)); // once per process: another test may have seen it first
        var input = Enumerable.Range(0, 96).Select(i => i / 7f).ToArray();
        var a = new float[96];
        var b = new float[96];
        auto.Run(input, 2, a);
        cpu.Run(input, 2, b);
        Assert.That(a, Is.EqualTo(b));
    }

    [Test]
    public void CliCudaWithoutTheProviderExits2NamingTheLibrary()
    {
        if (CudaProviderLoads()) Assert.Ignore("the CUDA provider loads on this machine");
        string dir = Directory.CreateTempSubdirectory("genmetrics-dev-").FullName;
        try
        {
            GenMetrics.Reports.PngWriter.Write(Path.Combine(dir, "a.png"), new RgbImage(4, 4, new byte[48]));
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int code = GenMetrics.Cli.Program.Run(["features", dir, "-o", Path.Combine(dir, "f.npy"), "--network", Network, "--layer", "values", "--mode", "none", "--device", "cuda", "--no-cache"], stdout, stderr);
            TestContext.Out.WriteLine(stderr.ToString());
            Assert.That(code, Is.EqualTo(2));
            Assert.That(stderr.ToString().Trim().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(stderr.ToString(), Does.Contain("CUDA provider cannot load"));
            Assert.That(File.Exists(Path.Combine(dir, "f.npy")), Is.False);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void GpuFeaturesAgreeWithTheCpu()
    {
        if (!CudaProviderLoads()) Assert.Ignore("no usable CUDA provider here (CUDA 13 + cuDNN 9 and a GPU are needed)");
        // The tests' tiny converted network (conv + BN + ReLU + pool + fc): real arithmetic on both devices.
        string dir = Directory.CreateTempSubdirectory("genmetrics-gpu-").FullName;
        var store = new ModelStore(dir);
        var model = ModelStoreTests.TinyModel("tiny_zip.pt");
        store.Install(model, SyntheticWeights.FixturePath("tiny_zip.pt"));
        using var gpu = store.Open(model, "fc", device: NetworkDevice.Parse("cuda"));
        using var cpu = store.Open(model, "fc");
        Directory.Delete(dir, recursive: true);
        var input = Enumerable.Range(0, 10 * 3 * 8 * 8).Select(i => MathF.Sin(i * 0.37f)).ToArray();
        var a = new float[10 * 5];
        var b = new float[10 * 5];
        gpu.Run(input, 10, a);
        cpu.Run(input, 10, b);
        double max = b.Max(Math.Abs);
        Assert.That(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)), Is.LessThanOrEqualTo(1e-5 * max));
    }
}
