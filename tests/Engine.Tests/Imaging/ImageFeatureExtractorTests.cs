using System.Buffers.Binary;
using System.IO.Compression;
using GenMetrics.Imaging;

namespace GenMetrics.Tests.Imaging;

public class ImageFeatureExtractorTests
{
    /// <summary>Features = per-channel mean of the network input; counts the images it is given.</summary>
    sealed class ChannelMeanNetwork(int size) : IFeatureNetwork
    {
        public int ImagesSeen;
        public string Name => "channel-mean";
        public string CacheKey => "channel-mean-v1";
        public int InputHeight => size;
        public int InputWidth => size;
        public int FeatureDim => 3;

        public void Run(ReadOnlySpan<float> batch, int n, Span<float> features)
        {
            Assert.That(batch.Length, Is.EqualTo(n * 3 * size * size));
            int plane = size * size;
            for (int i = 0; i < n; i++)
                for (int c = 0; c < 3; c++)
                {
                    double sum = 0;
                    foreach (var v in batch.Slice((i * 3 + c) * plane, plane)) sum += v;
                    features[i * 3 + c] = (float)(sum / plane);
                }
            ImagesSeen += n;
        }

        public void Dispose() { }
    }

    string root = "";
    string images = "";
    string cache = "";

    [SetUp]
    public void CreateFolders()
    {
        root = Path.Combine(Path.GetTempPath(), "genmetrics-imaging-" + Guid.NewGuid().ToString("N"));
        images = Path.Combine(root, "images");
        cache = Path.Combine(root, "cache");
        Directory.CreateDirectory(Path.Combine(images, "a"));
    }

    [TearDown]
    public void DeleteFolders()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    // Written in creation order b, a/z, B, a, c: the ordinal order is B.png, a.png, a/z.png, b.png, c.png.
    static readonly (string Path, byte Red)[] Files = [("b.png", 10), ("a/z.png", 60), ("B.png", 110), ("a.png", 160), ("c.png", 210)];
    static readonly string[] SortedPaths = ["B.png", "a.png", "a/z.png", "b.png", "c.png"];
    static readonly byte[] SortedReds = [110, 160, 60, 10, 210];

    void WriteImages()
    {
        foreach (var (path, red) in Files) WritePng(Path.Combine(images, path), 6, 5, red);
        File.WriteAllText(Path.Combine(images, "notes.txt"), "not an image");
    }

    ImagePipelineOptions Options(bool strict = false, int batch = 2, int max = 0) =>
        new() { Mode = ResizeMode.Clean, CacheDirectory = cache, Strict = strict, BatchSize = batch, MaxImages = max };

    static void AssertRowIsColour(ReadOnlySpan<float> row, byte red)
    {
        // A uniform image stays uniform under bicubic resizing (weights are normalised), so the
        // channel means are the clean normalisation of the colour itself.
        Assert.That(row[0], Is.EqualTo((red - 128) / 128.0).Within(1e-5));
        Assert.That(row[1], Is.EqualTo((255 - red - 128) / 128.0).Within(1e-5));
        Assert.That(row[2], Is.EqualTo((77 - 128) / 128.0).Within(1e-5));
    }

    [Test]
    public void OneRowPerImageInOrdinalPathOrderWhateverTheBatchSize()
    {
        WriteImages();
        foreach (int batch in new[] { 1, 2, 64 })
        {
            using var network = new ChannelMeanNetwork(4);
            var result = new ImageFeatureExtractor().ExtractDetailed(images, Options(batch: batch) with { UseCache = false }, network);
            Assert.That(result.RelativePaths, Is.EqualTo(SortedPaths));
            Assert.That(result.Features.Rows, Is.EqualTo(5));
            for (int i = 0; i < 5; i++) AssertRowIsColour(result.Features.Row(i), SortedReds[i]);
            Assert.That(network.ImagesSeen, Is.EqualTo(5));
        }
    }

    [Test]
    public void RowsStayInSortedOrderWithManyWorkersAndAShallowQueue()
    {
        // 40 images, distinct colours, so a row out of place is seen.
        var reds = new List<(string Path, byte Red)>();
        Directory.CreateDirectory(Path.Combine(images, "many"));
        for (int i = 0; i < 40; i++)
        {
            string path = $"many/{i:00}.png";
            byte red = (byte)(5 * i + 3);
            WritePng(Path.Combine(images, path), 6 + i % 7, 5 + i % 3, red);
            reds.Add((path, red));
        }
        foreach (var (batch, workers, depth) in new[] { (3, 6, 2), (1, 4, 1), (8, 3, 5) })
        {
            var result = new ImageFeatureExtractor().ExtractDetailed(images,
                Options(batch: batch) with { UseCache = false, Workers = workers, QueueDepth = depth }, new ChannelMeanNetwork(4));
            Assert.That(result.RelativePaths, Is.EqualTo(reds.Select(r => r.Path)));
            for (int i = 0; i < 40; i++) AssertRowIsColour(result.Features.Row(i), reds[i].Red);
        }
    }

    [Test]
    public void MaxImagesTakesTheFirstInSortedOrder()
    {
        WriteImages();
        var result = new ImageFeatureExtractor().ExtractDetailed(images, Options(max: 2), new ChannelMeanNetwork(4));
        Assert.That(result.RelativePaths, Is.EqualTo(SortedPaths[..2]));
    }

    [Test]
    public void SecondRunIsServedFromTheCacheAndAChangedFileIsNot()
    {
        WriteImages();
        var extractor = new ImageFeatureExtractor();
        var network = new ChannelMeanNetwork(4);
        var first = extractor.ExtractDetailed(images, Options(), network);
        var second = extractor.ExtractDetailed(images, Options(), network);
        Assert.That(first.FromCache, Is.False);
        Assert.That(second.FromCache, Is.True);
        Assert.That(network.ImagesSeen, Is.EqualTo(5));
        Assert.That(second.Features.Data, Is.EqualTo(first.Features.Data));
        Assert.That(second.RelativePaths, Is.EqualTo(SortedPaths));
        Assert.That(Directory.GetFiles(cache, "*.tmp"), Is.Empty);

        // Same size, new content, new mtime: must not reuse the old features.
        var changed = Path.Combine(images, "c.png");
        WritePng(changed, 6, 5, 20);
        File.SetLastWriteTimeUtc(changed, File.GetLastWriteTimeUtc(changed).AddSeconds(5));
        var third = extractor.ExtractDetailed(images, Options(), network);
        Assert.That(third.FromCache, Is.False);
        AssertRowIsColour(third.Features.Row(4), 20);

        // A different preprocessing is a different entry too.
        var fourth = extractor.ExtractDetailed(images, Options() with { Mode = ResizeMode.LegacyTensorFlow }, network);
        Assert.That(fourth.FromCache, Is.False);
    }

    [Test]
    public void CorruptFileIsSkippedCountedAndReportedAlsoFromTheCache()
    {
        WriteImages();
        var corrupt = Path.Combine(images, "a", "broken.png");
        File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0, 0, 13, (byte)'I', (byte)'H']);
        var extractor = new ImageFeatureExtractor();
        foreach (bool expectCached in new[] { false, true })
        {
            var notices = new List<string>();
            var result = extractor.ExtractDetailed(images, Options(), new ChannelMeanNetwork(4), null, notices.Add);
            Assert.That(result.FromCache, Is.EqualTo(expectCached));
            Assert.That(result.Features.Rows, Is.EqualTo(5));
            Assert.That(result.Skipped, Has.Count.EqualTo(1));
            // notes.txt is reported as left out (a type no decoder reads), then the corrupt file.
            Assert.That(notices, Has.Count.EqualTo(2));
            Assert.That(notices[0], Does.EndWith("left out 1 file that is not a readable image type (1 .txt)"));
            Assert.That(notices[1], Does.Contain(Path.Combine("a", "broken.png")));
            Assert.That(result.RelativePaths, Is.EqualTo(SortedPaths));
        }
    }

    [Test]
    public void StrictTurnsACorruptFileIntoAnInputExceptionNamingIt()
    {
        WriteImages();
        File.WriteAllBytes(Path.Combine(images, "a", "broken.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0, 16]);
        var e = Assert.Throws<InputException>(() =>
            new ImageFeatureExtractor().Extract(images, Options(strict: true), new ChannelMeanNetwork(4)));
        Assert.That(e!.Message, Does.Contain("broken.jpg"));
    }

    [Test]
    public void FolderWithoutImagesSaysWhichExtensionsWereLookedFor()
    {
        File.WriteAllText(Path.Combine(images, "readme.txt"), "nothing here");
        var e = Assert.Throws<InputException>(() => new ImageFeatureExtractor().Extract(images, Options(), new ChannelMeanNetwork(4)));
        Assert.That(e!.Message, Does.Contain(".png").And.Contain(".jpg").And.Contain(".bmp").And.Contain(images));
    }

    [Test]
    public void ImageListKeepsTheListedOrderWithRelativeAndAbsolutePaths()
    {
        WriteImages();
        // Relative to the list's own folder (root), one absolute, a blank line; not sorted.
        string list = Path.Combine(root, "files.txt");
        File.WriteAllLines(list, ["images/c.png", "", Path.Combine(images, "a", "z.png"), "images/B.png", "  images/b.png  "]);
        foreach (int batch in new[] { 1, 3 })
        {
            var result = new ImageFeatureExtractor().ExtractDetailed(list, Options(batch: batch) with { UseCache = false }, new ChannelMeanNetwork(4));
            Assert.That(result.Features.Rows, Is.EqualTo(4));
            byte[] reds = [210, 60, 110, 10];
            for (int i = 0; i < 4; i++) AssertRowIsColour(result.Features.Row(i), reds[i]);
            Assert.That(result.RelativePaths[0], Does.EndWith("images/c.png"));
        }
        var firstTwo = new ImageFeatureExtractor().ExtractDetailed(list, Options(max: 2) with { UseCache = false }, new ChannelMeanNetwork(4));
        Assert.That(firstTwo.Features.Rows, Is.EqualTo(2));
        AssertRowIsColour(firstTwo.Features.Row(1), 60);
    }

    [Test]
    public void ImageListErrorsNameTheLine()
    {
        WriteImages();
        string list = Path.Combine(root, "files.txt");
        void Expect(string[] lines, string message)
        {
            File.WriteAllLines(list, lines);
            var e = Assert.Throws<InputException>(() => new ImageFeatureExtractor().ExtractDetailed(list, Options() with { UseCache = false }, new ChannelMeanNetwork(4)));
            Assert.That(e!.Message, Does.Contain(list + ":2: ").And.Contain(message));
        }
        Expect(["images/c.png", "images/missing.png"], "no such file images/missing.png");
        Expect(["images/c.png", "images/notes.txt"], "not a readable image type");
        Expect(["images/c.png", "images/a"], "not a readable image type");
        Expect(["images/c.png", "./images/c.png"], "listed twice (first on line 1)");
        File.WriteAllLines(list, ["", "  "]);
        Assert.That(Assert.Throws<InputException>(() => ImageCollection.Open(list, StbImageDecoder.Instance.Extensions))!.Message, Does.Contain("no images found"));
        Assert.That(Assert.Throws<InputException>(() => ImageCollection.Open(Path.Combine(root, "none.txt"), StbImageDecoder.Instance.Extensions))!.Message,
            Does.Contain("no such image list"));
    }

    [Test]
    public void ImageListCacheEntryChangesWithTheOrder()
    {
        WriteImages();
        string list = Path.Combine(root, "files.txt");
        File.WriteAllLines(list, ["images/c.png", "images/b.png"]);
        var extractor = new ImageFeatureExtractor();
        var network = new ChannelMeanNetwork(4);
        Assert.That(extractor.ExtractDetailed(list, Options(), network).FromCache, Is.False);
        Assert.That(extractor.ExtractDetailed(list, Options(), network).FromCache, Is.True);
        File.WriteAllLines(list, ["images/b.png", "images/c.png"]);
        var swapped = extractor.ExtractDetailed(list, Options(), network);
        Assert.That(swapped.FromCache, Is.False);
        AssertRowIsColour(swapped.Features.Row(0), 10);
    }

    [Test]
    public void MissingPathIsAnInputException()
    {
        Assert.Throws<InputException>(() =>
            new ImageFeatureExtractor().Extract(Path.Combine(root, "nope"), Options(), new ChannelMeanNetwork(4)));
    }

    [Test]
    public void ZipGivesTheSameFeaturesAsTheFolder()
    {
        WriteImages();
        var zip = Path.Combine(root, "images.zip");
        ZipFile.CreateFromDirectory(images, zip);
        var extractor = new ImageFeatureExtractor();
        var fromFolder = extractor.ExtractDetailed(images, Options() with { UseCache = false }, new ChannelMeanNetwork(4));
        var fromZip = extractor.ExtractDetailed(zip, Options(), new ChannelMeanNetwork(4));
        Assert.That(fromZip.RelativePaths, Is.EqualTo(SortedPaths));
        Assert.That(fromZip.Features.Data, Is.EqualTo(fromFolder.Features.Data));
        Assert.That(extractor.ExtractDetailed(zip, Options(), new ChannelMeanNetwork(4)).FromCache, Is.True);
    }

    [Test]
    public void UnwritableCacheIsANoticeNotAFailure()
    {
        WriteImages();
        File.WriteAllText(cache, "a file where the cache directory should be");
        var notices = new List<string>();
        var result = new ImageFeatureExtractor().ExtractDetailed(images, Options(), new ChannelMeanNetwork(4), null, notices.Add);
        Assert.That(result.Features.Rows, Is.EqualTo(5));
        Assert.That(notices, Has.Count.EqualTo(2).And.Some.Contains("feature cache not written").And.Some.Contains("left out 1 file"));
    }

    [Test]
    public void ProgressReachesOne()
    {
        WriteImages();
        var reports = new List<double>();
        new ImageFeatureExtractor().Extract(images, Options() with { UseCache = false }, new ChannelMeanNetwork(4), new SynchronousProgress(reports.Add));
        Assert.That(reports, Is.Ordered.Ascending);
        Assert.That(reports[^1], Is.EqualTo(1.0));
    }

    sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    /// <summary>Uniform RGB (red, 255 − red, 77) PNG: 8-bit, filter 0, zlib, CRC-32 per chunk.</summary>
    static void WritePng(string path, int width, int height, byte red)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < width; x++) raw.Write([red, (byte)(255 - red), 77]);
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw.ToArray());
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = 2;
        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
        WriteChunk(file, "IHDR", header);
        WriteChunk(file, "IDAT", compressed.ToArray());
        WriteChunk(file, "IEND", []);
    }

    static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var buffer = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(buffer, data.Length);
        for (int i = 0; i < 4; i++) buffer[4 + i] = (byte)type[i];
        data.CopyTo(buffer, 8);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(8 + data.Length), Crc32(buffer.AsSpan(4, 4 + data.Length)));
        stream.Write(buffer);
    }

    static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
