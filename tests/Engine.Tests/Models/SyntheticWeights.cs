using System.Text;
using GenMetrics.Models;

namespace GenMetrics.Tests.Models;

/// <summary>
/// The deterministic weights of Fixtures/models/make_fixtures.py (formula documented there), reproduced bit
/// for bit so that the tests need neither Python nor the 100 MB checkpoints.
/// </summary>
internal static class SyntheticWeights
{
    public static uint Fnv1a(string name)
    {
        uint h = 0x811C9DC5;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            h ^= b;
            h *= 0x01000193;
        }
        return h;
    }

    public static double Uniform(uint seed, long i)
    {
        uint x = unchecked(seed + (uint)i * 0x9E3779B9u);
        x ^= x >> 16;
        x = unchecked(x * 0x7FEB352Du);
        x ^= x >> 15;
        x = unchecked(x * 0x846CA68Bu);
        x ^= x >> 16;
        return x / 4294967296.0 * 2.0 - 1.0;
    }

    public static float[] Values(string name, long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var v = new float[count];
        uint seed = Fnv1a(name);
        if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) return v;
        long fanIn = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        double scale = Math.Sqrt(6.0 / fanIn);
        Func<double, float> value = name.EndsWith("running_var", StringComparison.Ordinal) ? u => (float)(1.0 + 0.25 * (u + 1.0))
            : name.EndsWith("running_mean", StringComparison.Ordinal) || name.EndsWith("bias", StringComparison.Ordinal) ? u => (float)(0.1 * u)
            : shape.Length == 1 ? u => (float)(1.0 + 0.1 * u)
            : u => (float)(u * scale);
        Parallel.For(0, (count + (1 << 20) - 1) >> 20, chunk =>
        {
            long end = Math.Min(count, (chunk + 1) << 20);
            for (long i = chunk << 20; i < end; i++) v[i] = value(Uniform(seed, i));
        });
        return v;
    }

    /// <summary>The network input of the fixtures: plain u in [-1, 1), like normalised pixels.</summary>
    public static float[] Input(long count)
    {
        var v = new float[count];
        uint seed = Fnv1a("input");
        for (long i = 0; i < count; i++) v[i] = (float)Uniform(seed, i);
        return v;
    }

    /// <summary>A state_dict with every parameter the spec asks for, filled from the formula.</summary>
    public static Dictionary<string, TorchTensor> StateDict(IEnumerable<(string Name, long[] Shape)> parameters) =>
        parameters.ToDictionary(p => p.Name, p => new TorchTensor("float32", p.Shape, Values(p.Name, p.Shape), null, null));

    public static string FixturePath(string file) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "models", file);

    public static float[] ReadFloats(string file)
    {
        var bytes = File.ReadAllBytes(FixturePath(file));
        var f = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, f, 0, bytes.Length);
        return f;
    }
}
