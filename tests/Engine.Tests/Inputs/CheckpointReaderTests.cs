using GenMetrics.Models;
using GenMetrics.Tests.Models;

namespace GenMetrics.Tests.Inputs;

/// <summary>
/// The checkpoint reader stands on its own (a forged file can pass the 32-bit hash prefix): every
/// malformed checkpoint is one <see cref="InputException"/> naming the file, declared sizes are checked
/// before allocation, zip CRCs are checked. Forged files: Fixtures/inputs/make_fixtures.py (torch 1.13).
/// </summary>
public class CheckpointReaderTests
{
    static string C(string name) => InputFixtures.Path("checkpoints", name);

    [TestCase("expand200.pt", "reaches past its storage")]
    [TestCase("declared_huge.pt", "reaches past its storage of 70000 elements")]
    [TestCase("crc.pt", "CRC-32 mismatch")]
    [TestCase("truncated_zip.pt", "damaged checkpoint archive")]
    [TestCase("legacy_truncated.pt", "truncated")]
    [TestCase("legacy_huge_numel.pt", "declares 1152921504606846976 elements")]
    [TestCase("member_size.pt", "")]
    public void AForgedCheckpointIsOneInputErrorWithinBoundedMemory(string file, string problem)
    {
        string path = C(file);
        long size = new FileInfo(path).Length;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InputException>(() => TorchCheckpoint.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(e!.Message, Does.StartWith(path).And.Contain(problem));
        // The file's bytes, one real tensor at most (these files hold at most 280 KB of data), and bookkeeping.
        Assert.That(allocated, Is.LessThan(3 * size + (4 << 20)), $"{allocated} bytes allocated for a {size}-byte file");
    }

    /// <summary>
    /// Random byte changes and truncations: never any exception but <see cref="InputException"/>. The zip
    /// format's CRCs make every change to tensor data detectable; the legacy stream has no checksum, so
    /// there a change to a name or to raw tensor bytes can only be caught by the install's SHA-256 check (and
    /// a changed name by the network's own list of expected tensors); the test asks only for InputException.
    /// </summary>
    [TestCase("tiny_zip.pt", true)]
    [TestCase("tiny_legacy.pt", false)]
    public void EveryDamagedVariantOfAValidCheckpointIsAnInputErrorOrTheSameTensors(string file, bool checksummed)
    {
        var good = File.ReadAllBytes(SyntheticWeights.FixturePath(file));
        var reference = TorchCheckpoint.Read(good, file);
        var rng = new Random(14);
        int refused = 0, read = 0;
        void Check(byte[] bytes, string what)
        {
            try
            {
                var tensors = TorchCheckpoint.Read(bytes, "forged.pt");
                read++;
                if (!checksummed) return;
                // Only damage that does not change the tensors may pass (e.g. a byte in a zip comment or padding).
                Assert.That(tensors.Keys, Is.EquivalentTo(reference.Keys), what);
                foreach (var (name, t) in tensors)
                {
                    Assert.That(t.Shape, Is.EqualTo(reference[name].Shape), $"{what}: {name}");
                    Assert.That(t.ToFloat64(), Is.EqualTo(reference[name].ToFloat64()), $"{what}: {name} silently changed");
                }
            }
            catch (InputException e)
            {
                Assert.That(e.Message, Does.StartWith("forged.pt"), what);
                refused++;
            }
        }
        for (int n = 0; n < 600; n++)
        {
            var bad = (byte[])good.Clone();
            int at = rng.Next(bad.Length);
            bad[at] ^= (byte)rng.Next(1, 256);
            Check(bad, $"byte {at} changed");
        }
        for (int cut = 0; cut < good.Length; cut += Math.Max(1, good.Length / 200))
            Check(good[..cut], $"cut at {cut}");
        Assert.That(refused, Is.GreaterThan(read), $"{refused} refused, {read} read");
    }

    [Test]
    public void FromADirectoryOrAMissingFileSaysWhatToPass()
    {
        string dir = Directory.CreateTempSubdirectory("genmetrics-models-").FullName;
        try
        {
            var store = new ModelStore(Path.Combine(dir, "models"));
            var e = Assert.Throws<InputException>(() => store.Install(KnownModel.Inception, dir));
            Assert.That(e!.Message, Does.StartWith(dir).And.Contain("is a folder").And.Contain(KnownModel.Inception.CheckpointFileName));
            File.WriteAllText(Path.Combine(dir, KnownModel.Inception.CheckpointFileName), "x");
            e = Assert.Throws<InputException>(() => store.Install(KnownModel.Inception, dir));
            Assert.That(e!.Message, Does.Contain("--from " + Path.Combine(dir, KnownModel.Inception.CheckpointFileName)));
            e = Assert.Throws<InputException>(() => store.Install(KnownModel.Inception, Path.Combine(dir, "missing.pth")));
            Assert.That(e!.Message, Does.Contain("no such file"));
            var (code, _, stderr) = InputFixtures.Run("models", "install", "inception", "--from", dir, "--dir", Path.Combine(dir, "models"));
            Assert.That(stderr, Does.Not.Contain("denied").And.Contain("is a folder"));
            Assert.That(code, Is.EqualTo(2));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void AFailedDownloadMentionsFromAndNoPartFileThatDoesNotExist()
    {
        string dir = Directory.CreateTempSubdirectory("genmetrics-download-").FullName;
        try
        {
            string destination = Path.Combine(dir, "pt_inception-2015-12-05-6726825d.pth");
            // Nothing listens on port 9 of localhost: the connection is refused at once, as offline.
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            var e = Assert.Throws<InputException>(() => ModelStore.DownloadAsync(client, "http://127.0.0.1:9/x.pth", destination, model: "inception").GetAwaiter().GetResult());
            Assert.That(e!.Message, Does.Contain("--from").And.Not.Contain(".part"));
            Assert.That(e.Message, Does.Contain("genmetrics models install inception --from pt_inception-2015-12-05-6726825d.pth").And.Not.Contain("MODEL"));
            Assert.That(File.Exists(destination + ".part"), Is.False);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
