using GenMetrics.Imaging;
using GenMetrics.Reports;
using SkiaSharp;

namespace GenMetrics.Tests.Reports;

public class PngWriterTests
{
    internal static RgbImage DecodeWithSkia(byte[] png)
    {
        using var bitmap = SKBitmap.Decode(png);
        Assert.That(bitmap, Is.Not.Null, "SkiaSharp could not decode the PNG");
        var pixels = new byte[3 * bitmap.Width * bitmap.Height];
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var color = bitmap.GetPixel(x, y);
                Assert.That(color.Alpha, Is.EqualTo(255));
                int p = 3 * (y * bitmap.Width + x);
                (pixels[p], pixels[p + 1], pixels[p + 2]) = (color.Red, color.Green, color.Blue);
            }
        return new RgbImage(bitmap.Width, bitmap.Height, pixels);
    }

    [Test]
    public void EncodeThenDecodeGivesTheSamePixels()
    {
        var random = new Random(5);
        var pixels = new byte[3 * 37 * 23];
        random.NextBytes(pixels);
        var image = new RgbImage(37, 23, pixels);
        var png = PngWriter.Encode(image);
        Assert.That(png[..8], Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }));
        var decoded = DecodeWithSkia(png);
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((37, 23)));
        Assert.That(decoded.Pixels, Is.EqualTo(pixels));
    }

    [Test]
    public void WriteReplacesTheFileAndLeavesNoTempFileBehind()
    {
        var folder = Directory.CreateTempSubdirectory("genmetrics-png-");
        try
        {
            var path = Path.Combine(folder.FullName, "grid.png");
            File.WriteAllText(path, "old");
            var image = ImageGridTests.Tile(3, 4, 4);
            PngWriter.Write(path, image);
            Assert.That(DecodeWithSkia(File.ReadAllBytes(path)).Pixels, Is.EqualTo(image.Pixels));
            Assert.That(Directory.GetFiles(folder.FullName).Select(Path.GetFileName), Is.EqualTo(new[] { "grid.png" }));
        }
        finally { folder.Delete(recursive: true); }
    }

    [Test]
    public void WritingIntoAMissingFolderNamesThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), "genmetrics-no-such-folder-" + Guid.NewGuid().ToString("N"), "a.png");
        var error = Assert.Throws<InputException>(() => PngWriter.Write(path, ImageGridTests.Tile(0, 2, 2)));
        Assert.That(error!.Message, Does.StartWith(path + ":"));
    }
}
