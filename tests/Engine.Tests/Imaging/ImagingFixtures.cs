using System.Buffers.Binary;

namespace GenMetrics.Tests.Imaging;

static class ImagingFixtures
{
    public static string Dir(string sub) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "imaging", sub);

    public static float[] ReadFloats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
        return values;
    }

    public static IEnumerable<string[]> Cases(string sub) =>
        File.ReadAllLines(Path.Combine(Dir(sub), "cases.txt")).Where(l => l.Length > 0).Select(l => l.Split(' '));
}
