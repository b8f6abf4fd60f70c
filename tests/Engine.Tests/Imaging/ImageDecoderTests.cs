using GenMetrics.Imaging;

namespace GenMetrics.Tests.Imaging;

public class ImageDecoderTests
{
    static readonly StbImageDecoder Decoder = StbImageDecoder.Instance;

    static RgbImage Decode(string name) => Decoder.Decode(File.ReadAllBytes(Path.Combine(ImagingFixtures.Dir("decode"), name)), name);

    static byte[] PilPixels(string name) => File.ReadAllBytes(Path.Combine(ImagingFixtures.Dir("decode"), name + ".rgb"));

    public static IEnumerable<TestCaseData> ComparableCases() =>
        ImagingFixtures.Cases("decode").Where(c => int.Parse(c[3]) >= 0)
            .Select(c => new TestCaseData(c[0], int.Parse(c[1]), int.Parse(c[2]), int.Parse(c[3])).SetName($"DecodesLikePil({c[0]}, {c[4]})"));

    [TestCaseSource(nameof(ComparableCases))]
    public void DecodesLikePil(string name, int width, int height, int tolerance)
    {
        var image = Decode(name);
        var expected = PilPixels(name);
        Assert.That((image.Width, image.Height), Is.EqualTo((width, height)));
        int maxDiff = 0;
        for (int i = 0; i < expected.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(image.Pixels[i] - expected[i]));
        TestContext.Out.WriteLine($"{name}: max |stb - PIL| = {maxDiff}");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(tolerance));
    }

    /// <summary>
    /// The system libjpeg-turbo (SIMD) and Skia's (C only) give the same pixels on every JPEG fixture,
    /// photos included; CMYK goes to Skia. Ignored where no libturbojpeg is installed (then Skia decodes all).
    /// </summary>
    [Test]
    public void SystemLibjpegTurboDecodesExactlyAsSkia()
    {
        if (!TurboJpeg.IsAvailable) Assert.Ignore("no libturbojpeg installed (apt-get install libturbojpeg0): every JPEG goes through Skia");
        var files = Directory.GetFiles(ImagingFixtures.Dir("decode"), "*.jpg").Select(f => (f, File.ReadAllBytes(f))).ToList();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(5));
        // Noise with sharp colour edges, odd sizes, 4:2:0 at several qualities: where upsampling and IDCT differ if anything does.
        var rng = new Random(7);
        foreach (var (w, h, q) in new[] { (97, 61, 95), (256, 255, 75), (33, 129, 30) })
        {
            var noise = new byte[w * h * 4];
            rng.NextBytes(noise);
            for (int i = 3; i < noise.Length; i += 4) noise[i] = 255;
            using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(w, h, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque));
            System.Runtime.InteropServices.Marshal.Copy(noise, 0, bitmap.GetPixels(), noise.Length);
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, q);
            files.Add(($"noise{w}x{h}q{q}.jpg", data.ToArray()));
        }
        foreach (var (file, bytes) in files)
        {
            var turbo = TurboJpeg.TryDecode(bytes);
            if (file.EndsWith("cmyk.jpg") || file.EndsWith("truncated.jpg"))
            {
                Assert.That(turbo, Is.Null, $"{file}: left to Skia");
                continue;
            }
            Assert.That(turbo, Is.Not.Null, file);
            var skia = LibjpegDecoder.DecodeWithSkia(bytes, file);
            Assert.That((turbo!.Width, turbo.Height), Is.EqualTo((skia.Width, skia.Height)), file);
            Assert.That(turbo.Pixels.SequenceEqual(skia.Pixels), Is.True, $"{file}: pixels differ between libjpeg-turbo and Skia");
        }
    }

    [Test]
    public void Gray16PngKeepsTheHighByteWherePilClampsTo255()
    {
        var image = Decode("gray16.png");
        var raw = File.ReadAllBytes(Path.Combine(ImagingFixtures.Dir("decode"), "gray16.png.u16"));
        var pil = PilPixels("gray16.png");
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            int value = raw[2 * i] | (raw[2 * i + 1] << 8);
            Assert.That(image.Pixels[3 * i], Is.EqualTo(value >> 8));
            Assert.That(image.Pixels[3 * i + 1], Is.EqualTo(value >> 8));
            Assert.That(pil[3 * i], Is.EqualTo(Math.Min(value, 255)), "PIL's documented behaviour changed");
        }
    }

    [TestCase("corrupt.png")]
    [TestCase("truncated.png")]
    [TestCase("truncated.jpg")]
    public void BrokenFilesAreInputExceptionsNamingTheFile(string name)
    {
        var e = Assert.Throws<InputException>(() => Decode(name));
        Assert.That(e!.Message, Does.StartWith(name + ": "));
        TestContext.Out.WriteLine(e.Message);
    }

    [Test]
    public void EmptyAndNonImageDataAreRefused()
    {
        Assert.Throws<InputException>(() => Decoder.Decode([], "empty.png"));
        Assert.Throws<InputException>(() => Decoder.Decode("hello, world"u8, "text.png"));
    }

    /// <summary>Measures stb vs PIL on real JPEGs; needs GENMETRICS_JPEG_COMPARE=DIR holding X.jpg and X.jpg.rgb (PIL's decode).</summary>
    [Test, Explicit("measurement for docs/images.md, needs PIL dumps of the photos")]
    public void MeasureJpegDifferenceAgainstPil()
    {
        var dir = Environment.GetEnvironmentVariable("GENMETRICS_JPEG_COMPARE");
        if (dir == null) Assert.Ignore("set GENMETRICS_JPEG_COMPARE");
        foreach (var jpg in Directory.GetFiles(dir!, "*.jpg").Order(StringComparer.Ordinal))
        {
            var image = Decoder.Decode(File.ReadAllBytes(jpg), jpg);
            var pil = File.ReadAllBytes(jpg + ".rgb");
            long sum = 0;
            int max = 0, differing = 0;
            var histogram = new int[256];
            for (int i = 0; i < pil.Length; i++)
            {
                int d = Math.Abs(image.Pixels[i] - pil[i]);
                sum += d;
                max = Math.Max(max, d);
                if (d != 0) differing++;
                histogram[d]++;
            }
            TestContext.Out.WriteLine($"{Path.GetFileName(jpg)} {image.Width}x{image.Height}: mean |d| = {(double)sum / pil.Length:F3}, max = {max}, " +
                $"values differing {100.0 * differing / pil.Length:F1}%, |d|<=2 {100.0 * (histogram[0] + histogram[1] + histogram[2]) / pil.Length:F2}%");
        }
    }

    /// <summary>
    /// The pipeline's decode into a reused per-thread array gives the same pixels as Decode, reuses the
    /// array for same-sized images, and never hands it out from a plain Decode (whose images callers keep).
    /// </summary>
    [TestCase("rgb8.png")]
    [TestCase("rgba8_gama_iccp.png")]
    [TestCase("baseline.jpg")]
    public void TransientDecodeReusesOneArrayAndMatchesDecode(string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(ImagingFixtures.Dir("decode"), name));
        var first = Decoder.DecodeTransient(bytes, name);
        var pixels = first.Pixels.ToArray();
        var second = Decoder.DecodeTransient(bytes, name);
        var plain = Decoder.Decode(bytes, name);
        Assert.That(second.Pixels, Is.EqualTo(pixels));
        Assert.That(plain.Pixels, Is.EqualTo(pixels));
        Assert.That(plain.Pixels, Is.Not.SameAs(second.Pixels), "a plain Decode gets its own array");
        if (name.EndsWith(".png") || TurboJpeg.IsAvailable)
            Assert.That(second.Pixels, Is.SameAs(first.Pixels), "the transient decode reuses the thread's array");
    }
}
