using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using GenMetrics.Imaging;
using StbImageSharp;

namespace GenMetrics.Tests.Imaging;

/// <summary>
/// The 8-bit PNG path (unfiltering the data PngIntegrity inflated) against the pixels the test wrote and
/// against StbImageSharp, on PNGs written here with each of the five row filters forced on every row
/// (PIL's encoder chooses filters itself, so its fixtures cannot promise all five), for every colour type
/// the path takes and widths that do and do not fill a SIMD register. PIL's own files: DecodesLikePil.
/// </summary>
public class PngRowDecoderTests
{
    [Test]
    public void EveryFilterAndColourTypeDecodesToTheWrittenPixels()
    {
        var rng = new Random(12);
        foreach (int colorType in new[] { 0, 2, 4, 6 })
            foreach (int width in new[] { 1, 2, 5, 33 })
                foreach (int filter in new[] { 0, 1, 2, 3, 4, -1 }) // -1: the row's filter cycles 0..4
                {
                    int channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
                    const int height = 7;
                    var samples = new byte[width * height * channels];
                    // Smooth ramps plus noise, so the predictors (and Paeth's three-way choice) all matter.
                    for (int i = 0; i < samples.Length; i++) samples[i] = (byte)(i * 7 / channels + rng.Next(0, 40));
                    var png = WritePng(samples, width, height, colorType, channels, filter);
                    string label = $"colour type {colorType}, width {width}, filter {filter}";

                    Assert.That(PngRowDecoder.TryDecode(PngIntegrity.Check(png, label)), Is.Not.Null, $"{label}: takes the 8-bit path");
                    var decoded = StbImageDecoder.Instance.Decode(png, label);
                    var expected = new byte[width * height * 3];
                    for (int p = 0; p < width * height; p++)
                        for (int c = 0; c < 3; c++)
                            expected[3 * p + c] = samples[p * channels + (channels >= 3 ? c : 0)];
                    Assert.That(decoded.Pixels, Is.EqualTo(expected), label);
                    var stb = ImageResult.FromMemory(png, ColorComponents.RedGreenBlue);
                    Assert.That(decoded.Pixels, Is.EqualTo(stb.Data), $"{label}: same as StbImageSharp");
                }
    }

    [Test]
    public void OtherPngKindsAreLeftToStb()
    {
        var png = WritePng(new byte[3 * 4 * 2 * 2], 4, 2, 2, 6, 0, bitDepth: 16);
        Assert.That(PngRowDecoder.TryDecode(PngIntegrity.Check(png, "rgb16")), Is.Null);
    }

    static byte[] WritePng(byte[] samples, int width, int height, int colorType, int bpp, int filter, int bitDepth = 8)
    {
        int rowBytes = width * bpp;
        var raw = new byte[height * (rowBytes + 1)];
        for (int y = 0; y < height; y++)
        {
            int f = filter >= 0 ? filter : y % 5;
            raw[y * (rowBytes + 1)] = (byte)f;
            for (int i = 0; i < rowBytes; i++)
            {
                int x = samples[y * rowBytes + i];
                int a = i >= bpp ? samples[y * rowBytes + i - bpp] : 0;
                int b = y > 0 ? samples[(y - 1) * rowBytes + i] : 0;
                int c = i >= bpp && y > 0 ? samples[(y - 1) * rowBytes + i - bpp] : 0;
                int predictor = f switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    _ => PaethPredictor(a, b, c),
                };
                raw[y * (rowBytes + 1) + 1 + i] = (byte)(x - predictor);
            }
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = (byte)bitDepth;
        header[9] = (byte)colorType;
        var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(file, "IHDR", header);
        Chunk(file, "IDAT", compressed.ToArray());
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    // The PNG specification's definition (§9.4), written out independently of the decoder's.
    static int PaethPredictor(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }

    static void Chunk(Stream s, string type, byte[] body)
    {
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        s.Write(word);
        s.Write(typeBytes);
        s.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32([.. typeBytes, .. body]));
        s.Write(word);
    }
}
