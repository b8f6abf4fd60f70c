using System.Text;
using GenMetrics.Models;

namespace GenMetrics.Tests.Models;

public class TorchCheckpointTests
{
    private static readonly (string Name, long[] Shape)[] TinyParameters =
    [
        ("conv.weight", [4, 3, 3, 3]),
        ("bn.weight", [4]),
        ("bn.bias", [4]),
        ("bn.running_mean", [4]),
        ("bn.running_var", [4]),
        ("fc.weight", [5, 4]),
        ("fc.bias", [5]),
    ];

    [TestCase("tiny_zip.pt")]
    [TestCase("tiny_legacy.pt")]
    public void ReadsBothSerialisations(string file)
    {
        var sd = TorchCheckpoint.Read(SyntheticWeights.FixturePath(file));
        foreach (var (name, shape) in TinyParameters)
        {
            Assert.That(sd[name].Shape, Is.EqualTo(shape), name);
            Assert.That(sd[name].DType, Is.EqualTo("float32"), name);
            Assert.That(sd[name].ToFloat32(), Is.EqualTo(SyntheticWeights.Values(name, shape)), name);
        }
        Assert.That(sd["bn.num_batches_tracked"].DType, Is.EqualTo("int64"));
        Assert.That(sd["bn.num_batches_tracked"].Shape, Is.Empty);
        Assert.That(sd["bn.num_batches_tracked"].ToInt64(), Is.EqualTo(new long[] { 0 }));

        // base = arange(12).reshape(3, 4): transposed and sliced views keep base's storage with other strides/offsets.
        var transposed = sd["extra.transposed"];
        Assert.That(transposed.Shape, Is.EqualTo(new long[] { 4, 3 }));
        Assert.That(transposed.ToFloat32(), Is.EqualTo(new float[] { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 }));
        Assert.That(sd["extra.sliced"].ToFloat32(), Is.EqualTo(new float[] { 5, 6, 9, 10 }));
        Assert.That(sd["extra.double"].DType, Is.EqualTo("float64"));
        Assert.That(sd["extra.double"].ToFloat64(), Is.EqualTo(new[] { 0.5, -1.25, 3.0 }));
        Assert.That(sd["extra.long"].ToInt64(), Is.EqualTo(new[] { 7L, -3L, 1L << 40 }));
        Assert.That(sd.Keys.First(), Is.EqualTo("conv.weight"), "file order is kept");
    }

    private static byte[] Pickle(string globalModule, string globalName)
    {
        // PROTO 2; GLOBAL module name; EMPTY_TUPLE; REDUCE; STOP: what pickle.dumps of os.system(...) looks like.
        var b = new List<byte> { 0x80, 2, (byte)'c' };
        b.AddRange(Encoding.ASCII.GetBytes($"{globalModule}\n{globalName}\n"));
        b.AddRange(new byte[] { (byte)')', (byte)'R', (byte)'.' });
        return b.ToArray();
    }

    [Test]
    public void RefusesForbiddenGlobal()
    {
        var zipBytes = File.ReadAllBytes(SyntheticWeights.FixturePath("tiny_zip.pt"));
        var legacy = File.ReadAllBytes(SyntheticWeights.FixturePath("tiny_legacy.pt"));
        // A legacy stream whose first pickle (the magic number) is replaced by a call to os.system.
        var evil = Pickle("posix", "system").Concat(legacy.Skip(1)).ToArray();
        var e = Assert.Throws<InputException>(() => TorchCheckpoint.Read(evil, "evil.pt"));
        Assert.That(e!.Message, Does.Contain("evil.pt").And.Contain("posix.system"));
        Assert.That(zipBytes.Length, Is.GreaterThan(0));
    }

    [Test]
    public void RefusesTorchScriptWithAClearMessage()
    {
        var e = Assert.Throws<InputException>(() => TorchCheckpoint.Read(SyntheticWeights.FixturePath("tiny_torchscript.pt")));
        Assert.That(e!.Message, Does.Contain("tiny_torchscript.pt").And.Contain("TorchScript"));
    }

    [Test]
    public void RefusesUnknownOpcode()
    {
        // PROTO 2, then INST ('i'), which a state_dict never contains.
        var bytes = new byte[] { 0x80, 2, (byte)'i', (byte)'x', (byte)'\n', (byte)'y', (byte)'\n', (byte)'.' };
        var e = Assert.Throws<InputException>(() => TorchCheckpoint.Read(bytes, "odd.pt"));
        Assert.That(e!.Message, Does.Contain("odd.pt").And.Contain("0x69"));
    }

    [Test]
    public void RefusesTruncatedAndForeignFiles()
    {
        var legacy = File.ReadAllBytes(SyntheticWeights.FixturePath("tiny_legacy.pt"));
        Assert.Throws<InputException>(() => TorchCheckpoint.Read(legacy[..(legacy.Length - 10)], "cut.pt"));
        Assert.Throws<InputException>(() => TorchCheckpoint.Read("hello"u8.ToArray(), "text.pt"));
        Assert.Throws<InputException>(() => TorchCheckpoint.Read(Path.Combine(Path.GetTempPath(), "no-such-file.pt")));
    }
}
