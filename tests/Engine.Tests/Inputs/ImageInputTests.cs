using System.IO.Compression;
using GenMetrics.Imaging;

namespace GenMetrics.Tests.Inputs;

/// <summary>
/// The image kinds of issue 14: damaged PNGs refused as PIL refuses them, WebP and TIFF decoded to PIL's
/// pixels, file types left out reported, macOS archive companions skipped by every reader, CRC-checked
/// zip members. Fixtures: Fixtures/inputs/make_fixtures.py (PIL 9.4).
/// </summary>
public class ImageInputTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = Directory.CreateTempSubdirectory("genmetrics-images-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static IEnumerable<TestCaseData> DecodeCases() =>
        File.ReadAllLines(InputFixtures.Path("images", "decode", "cases.txt")).Where(l => l.Length > 0)
            .Select(l => l.Split(' ')).Select(p => new TestCaseData(p[0], int.Parse(p[1]), int.Parse(p[2])).SetName($"DecodesLikePil({p[0]})"));

    [TestCaseSource(nameof(DecodeCases))]
    public void WebpAndTiffDecodeToPilsPixels(string name, int width, int height)
    {
        string path = InputFixtures.Path("images", "decode", name);
        var image = StbImageDecoder.Instance.Decode(File.ReadAllBytes(path), path);
        Assert.That((image.Width, image.Height), Is.EqualTo((width, height)));
        var expected = File.ReadAllBytes(path + ".rgb");
        int differing = 0;
        for (int i = 0; i < expected.Length; i++) if (expected[i] != image.Pixels[i]) differing++;
        Assert.That(differing, Is.Zero, $"{differing} of {expected.Length} channel values differ from PIL");
    }

    [Test]
    public void EveryPytorchFidExtensionIsRead()
    {
        foreach (var ext in new[] { ".bmp", ".jpg", ".jpeg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp" })
            Assert.That(StbImageDecoder.Instance.Extensions, Does.Contain(ext));
    }

    [Test]
    public void BinaryPgmAndPpmDecode()
    {
        var ppm = System.Text.Encoding.ASCII.GetBytes("P6\n2 1\n255\n").Concat(new byte[] { 10, 20, 30, 40, 50, 60 }).ToArray();
        var pgm = System.Text.Encoding.ASCII.GetBytes("P5\n2 1\n255\n").Concat(new byte[] { 7, 200 }).ToArray();
        Assert.That(StbImageDecoder.Instance.Decode(ppm, "a.ppm").Pixels, Is.EqualTo(new byte[] { 10, 20, 30, 40, 50, 60 }));
        Assert.That(StbImageDecoder.Instance.Decode(pgm, "a.pgm").Pixels, Is.EqualTo(new byte[] { 7, 7, 7, 200, 200, 200 }));
    }

    static IEnumerable<TestCaseData> DamagedCases() =>
        File.ReadAllLines(InputFixtures.Path("images", "damaged", "verdicts.txt")).Where(l => l.Length > 0)
            .Select(l => l.Split(' ')).Select(p => new TestCaseData(p[0], p[1]).SetName($"DamagedPng({p[0]}, PIL {p[1]})"));

    /// <summary>
    /// Every damaged PNG that PIL refuses is refused. Those PIL reads are read with PIL's pixels, or refused
    /// for a CRC mismatch PIL does not check (libpng does: IDAT's CRC, chunks after the image data).
    /// </summary>
    [TestCaseSource(nameof(DamagedCases))]
    public void DamagedPngsAreRefusedAsPilRefusesThem(string name, string verdict)
    {
        string path = InputFixtures.Path("images", "damaged", name);
        var bytes = File.ReadAllBytes(path);
        if (verdict == "refused")
        {
            var e = Assert.Throws<InputException>(() => StbImageDecoder.Instance.Decode(bytes, path));
            Assert.That(e!.Message, Does.StartWith(path + ":"));
            return;
        }
        try
        {
            var image = StbImageDecoder.Instance.Decode(bytes, path);
            Assert.That(image.Pixels, Is.EqualTo(File.ReadAllBytes(path + ".rgb")));
        }
        catch (InputException e)
        {
            Assert.That(e.Message, Does.Contain("CRC mismatch"));
        }
    }

    /// <summary>A signature followed by text: the bad chunk type is quoted and given as bytes, so blanks show.</summary>
    [Test]
    public void ABrokenChunkTypeIsQuotedWithItsBytes()
    {
        byte[] bytes = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. "this is broken"u8];
        var e = Assert.Throws<InputException>(() => StbImageDecoder.Instance.Decode(bytes, "broken.png"));
        Assert.That(e!.Message, Is.EqualTo("broken.png: damaged PNG: chunk type ' is ' (bytes 20 69 73 20) at byte 12 is not a valid PNG chunk name (4 ASCII letters)"));
    }

    [Test]
    public void ASingleChangedByteInAnyChunkIsCaught()
    {
        // Every byte position of a valid PNG, flipped in turn: never decoded silently to different pixels.
        string path = InputFixtures.Path("images", "damaged", "00.png");
        var good = MakePng();
        var reference = StbImageDecoder.Instance.Decode(good, "good.png").Pixels;
        for (int i = 8; i < good.Length; i++)
        {
            var bad = (byte[])good.Clone();
            bad[i] ^= 0x10;
            try
            {
                var pixels = StbImageDecoder.Instance.Decode(bad, "bad.png").Pixels;
                Assert.That(pixels, Is.EqualTo(reference), $"byte {i} changed the pixels silently");
            }
            catch (InputException)
            {
            }
        }
        Assert.That(path, Does.Exist);
    }

    static byte[] MakePng()
    {
        var image = new RgbImage(7, 5, Enumerable.Range(0, 7 * 5 * 3).Select(i => (byte)(i * 37)).ToArray());
        return GenMetrics.Reports.PngWriter.Encode(image);
    }

    [Test]
    public void MacosCompanionsAreSkippedInArchivesAsInFolders()
    {
        string zip = InputFixtures.Path("images", "macos.zip");
        using (var collection = ImageCollection.Open(zip, StbImageDecoder.Instance.Extensions))
            Assert.That(collection.Entries.Select(e => e.RelativePath), Is.EqualTo(new[] { "set/a.png", "set/b.png" }));
        string unpacked = Path.Combine(dir, "unpacked");
        ZipFile.ExtractToDirectory(zip, unpacked);
        using (var folder = ImageCollection.Open(unpacked, StbImageDecoder.Instance.Extensions))
        {
            Assert.That(folder.Entries.Select(e => e.RelativePath), Is.EqualTo(new[] { "set/a.png", "set/b.png" }));
            Assert.That(folder.LeftOutSummary, Is.Null);
        }
        foreach (var hidden in new[] { "__MACOSX/set/._a.png", "set/._a.png", ".hidden/x.png", "a/.DS_Store" })
            Assert.That(ImageCollection.IsHidden(hidden), Is.True, hidden);
        Assert.That(ImageCollection.IsHidden("set/a.png"), Is.False);
    }

    [Test]
    public void FileTypesLeftOutAreCountedByExtension()
    {
        string folder = Path.Combine(dir, "mixed");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "a.png"), MakePng());
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "x");
        File.WriteAllText(Path.Combine(folder, "more.txt"), "x");
        File.WriteAllText(Path.Combine(folder, "labels.json"), "{}");
        File.WriteAllText(Path.Combine(folder, "README"), "x");
        using (var collection = ImageCollection.Open(folder, StbImageDecoder.Instance.Extensions))
        {
            Assert.That(collection.Entries, Has.Count.EqualTo(1));
            Assert.That(collection.LeftOutSummary, Is.EqualTo("left out 4 files that are not a readable image type (2 .txt, 1 .json, 1 without extension)"));
        }
        string zip = Path.Combine(dir, "mixed.zip");
        ZipFile.CreateFromDirectory(folder, zip);
        using (var archived = ImageCollection.Open(zip, StbImageDecoder.Instance.Extensions))
            Assert.That(archived.LeftOut, Is.EqualTo(new Dictionary<string, int> { [".txt"] = 2, [".json"] = 1, [""] = 1 }));
        File.Delete(Path.Combine(folder, "a.png"));
        var e = Assert.Throws<InputException>(() => ImageCollection.Open(folder, StbImageDecoder.Instance.Extensions));
        Assert.That(e!.Message, Does.Contain("left out 4 files"));
    }

    [Test]
    public void ADamagedStoredZipMemberIsRefused()
    {
        string zip = Path.Combine(dir, "set.zip");
        var png = MakePng();
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var s = archive.CreateEntry("a.png", CompressionLevel.NoCompression).Open())
            s.Write(png);
        var bytes = File.ReadAllBytes(zip);
        int at = bytes.AsSpan().IndexOf(png.AsSpan(0, 16)) + 40;
        bytes[at] ^= 0x01;
        File.WriteAllBytes(zip, bytes);
        using var collection = ImageCollection.Open(zip, StbImageDecoder.Instance.Extensions);
        var e = Assert.Throws<InputException>(() => collection.ReadBytes(collection.Entries[0]));
        Assert.That(e!.Message, Does.StartWith($"{zip}:a.png").And.Contain("CRC-32 mismatch"));
    }
}
