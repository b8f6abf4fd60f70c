using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using GenMetrics.Models;

namespace GenMetrics.Tests.Models;

public class ModelStoreTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDirectory() => _dir = Directory.CreateTempSubdirectory("genmetrics-models-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    /// <summary>A network over the keys of Fixtures/models/tiny_*.pt.</summary>
    internal static NetworkSpec TinyCheckpointSpec() => new("tiny", 3, 8, 8,
    [
        new ConvLayer("c", "input", "conv", 3, 4, (3, 3), (1, 1), (0, 0), HasBias: false, "bn", 0.001, Relu: true),
        new GlobalAvgPoolLayer("pool", "c"),
        new LinearLayer("fc", "pool", "fc", 4, 5, UseBias: true),
    ], [new("pool", 4), new("fc", 5)]);

    internal static KnownModel TinyModel(string file) => new("tiny", file, "http://unused", Sha256Hex(File.ReadAllBytes(SyntheticWeights.FixturePath(file)))[..8], TinyCheckpointSpec, "fc");

    private static string Sha256Hex(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    [TestCase("tiny_zip.pt")]
    [TestCase("tiny_legacy.pt")]
    public void InstallsListsAndRuns(string file)
    {
        var store = new ModelStore(_dir);
        var model = TinyModel(file);
        var manifest = store.Install(model, SyntheticWeights.FixturePath(file));
        Assert.That(manifest.SourceSha256, Is.EqualTo(Sha256Hex(File.ReadAllBytes(SyntheticWeights.FixturePath(file)))));
        Assert.That(manifest.OnnxSha256, Is.EqualTo(Sha256Hex(File.ReadAllBytes(Path.Combine(_dir, "tiny.onnx")))));
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "tiny.json", "tiny.onnx" }), "no temporary files left");
        Assert.That(store.List().Select(m => m.Model), Is.EqualTo(new[] { "tiny" }));

        using var net = store.Open(model);
        Assert.That(net.Name, Does.Contain("tiny"));
        var input = SyntheticWeights.Input(3 * 8 * 8);
        var features = new float[5];
        net.Run(input, 1, features);
        var sd = TorchCheckpoint.Read(SyntheticWeights.FixturePath(file));
        var expected = ReferenceNetwork.Run(TinyCheckpointSpec(), sd, input, 1)["fc"];
        for (int i = 0; i < 5; i++) Assert.That(features[i], Is.EqualTo(expected[i]).Within(1e-5));
    }

    [Test]
    public void WrongHashIsRefusedAndNothingIsWritten()
    {
        var store = new ModelStore(_dir);
        var e = Assert.Throws<InputException>(() => store.Install(KnownModel.Inception, SyntheticWeights.FixturePath("tiny_zip.pt")));
        Assert.That(e!.Message, Does.Contain("tiny_zip.pt").And.Contain("6726825d"));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
        Assert.That(store.List(), Is.Empty);
    }

    [Test]
    public void AllowUnverifiedConvertsAnotherHashAndRecordsIt()
    {
        var store = new ModelStore(_dir);
        string checkpoint = SyntheticWeights.FixturePath("tiny_zip.pt");
        var model = TinyModel("tiny_zip.pt") with { Sha256Prefix = "00000000" }; // not this file's hash
        Assert.Throws<InputException>(() => store.Install(model, checkpoint));
        var manifest = store.Install(model, checkpoint, allowUnverified: true);
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(checkpoint)));
        Assert.That((manifest.Verified, manifest.IsVerified, manifest.SourceSha256), Is.EqualTo(((bool?)false, false, sha)));
        Assert.That(File.ReadAllText(Path.Combine(_dir, "tiny.json")), Does.Contain("\"verified\": false"));
        var listed = store.List().Single();
        Assert.That(listed.IsVerified, Is.False);
        using var network = store.Open(model, "pool");
        Assert.That(network.Provenance, Is.EqualTo(new FeatureProvenance("tiny", "pool", sha, false)));
        Assert.That(network.Name, Does.Contain("unverified"));

        // The official hash with the flag is still verified, and an absent or null field reads as verified.
        var verified = store.Install(TinyModel("tiny_zip.pt"), checkpoint, allowUnverified: true);
        Assert.That(verified.IsVerified, Is.True);
        Assert.That(File.ReadAllText(Path.Combine(_dir, "tiny.json")), Does.Not.Contain("\"verified\": false"));
    }

    [Test]
    public void ResultsJsonRecordsTheCheckpoints()
    {
        var features = new GenMetrics.Features.FeatureMatrix(Enumerable.Range(0, 40).Select(i => (float)Math.Sin(i * 1.7)).ToArray(), 10, 4, "x");
        var unverified = new FeatureProvenance("inception", "pool3", new string('a', 64), false);
        var input = GenMetrics.Evaluation.MetricInput.FromImages("real", features, null, [unverified]);
        using var cpu = new GenMetrics.Compute.CpuBackend();
        var result = GenMetrics.Evaluation.Evaluator.Evaluate(input, input, new GenMetrics.Evaluation.EvaluationOptions { Groups = [GenMetrics.Evaluation.MetricGroup.Fid] }, cpu);
        var json = System.Text.Json.JsonDocument.Parse(result.ToJson()).RootElement.GetProperty("feature_networks");
        Assert.That(json.GetArrayLength(), Is.EqualTo(1));
        Assert.That(json[0].GetProperty("checkpoint_sha256").GetString(), Is.EqualTo(new string('a', 64)));
        Assert.That(json[0].GetProperty("verified").GetBoolean(), Is.False);
        Assert.That(json[0].GetProperty("layer").GetString(), Is.EqualTo("pool3"));
    }

    [Test]
    public void ListIgnoresAModelWhoseOnnxIsIncomplete()
    {
        var store = new ModelStore(_dir);
        store.Install(TinyModel("tiny_zip.pt"), SyntheticWeights.FixturePath("tiny_zip.pt"));
        File.WriteAllBytes(Path.Combine(_dir, "tiny.onnx"), [1, 2, 3]);
        Assert.That(store.List(), Is.Empty);
    }

    [Test]
    public void CliRefusesAForeignCheckpoint()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = GenMetrics.Cli.Program.Run(["models", "install", "inception", "--from", SyntheticWeights.FixturePath("tiny_zip.pt"), "--dir", _dir], stdout, stderr);
        Assert.That(rc, Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.Contain("6726825d"));
        rc = GenMetrics.Cli.Program.Run(["models", "list", "--dir", _dir], stdout, stderr);
        Assert.That(rc, Is.EqualTo(0));
        Assert.That(stdout.ToString(), Does.Contain("no models installed"));
    }

    /// <summary>A local HTTP server honouring Range requests (the machine running the tests has no internet).</summary>
    private static (HttpListener Listener, string Url, List<string?> Ranges) Serve(byte[] content, bool honourRange)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var listener = new HttpListener();
        string url = $"http://127.0.0.1:{port}/";
        listener.Prefixes.Add(url);
        listener.Start();
        var ranges = new List<string?>();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync(); } catch { return; }
                string? range = ctx.Request.Headers["Range"];
                lock (ranges) ranges.Add(range);
                int start = 0;
                if (honourRange && range is not null && range.StartsWith("bytes=", StringComparison.Ordinal))
                {
                    start = int.Parse(range[6..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
                    ctx.Response.StatusCode = 206;
                    ctx.Response.Headers["Content-Range"] = $"bytes {start}-{content.Length - 1}/{content.Length}";
                }
                ctx.Response.ContentLength64 = content.Length - start;
                await ctx.Response.OutputStream.WriteAsync(content.AsMemory(start));
                ctx.Response.Close();
            }
        });
        return (listener, url + "file.pth", ranges);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task DownloadResumesFromAPartFile(bool honourRange)
    {
        var content = File.ReadAllBytes(SyntheticWeights.FixturePath("tiny_legacy.pt"));
        var (listener, url, ranges) = Serve(content, honourRange);
        try
        {
            string destination = Path.Combine(_dir, "file.pth");
            File.WriteAllBytes(destination + ".part", content[..1000]);
            using var client = new HttpClient();
            await ModelStore.DownloadAsync(client, url, destination);
            Assert.That(File.ReadAllBytes(destination), Is.EqualTo(content));
            Assert.That(File.Exists(destination + ".part"), Is.False);
            Assert.That(ranges, Is.EqualTo(new[] { "bytes=1000-" }));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Test]
    public void DownloadFailureIsAnInputException()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var client = new HttpClient();
        var e = Assert.ThrowsAsync<InputException>(() => ModelStore.DownloadAsync(client, $"http://127.0.0.1:{port}/x.pth", Path.Combine(_dir, "x.pth")));
        Assert.That(e!.Message, Does.Contain("download failed"));
    }
}
