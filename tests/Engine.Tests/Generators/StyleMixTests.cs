namespace GenMetrics.Tests.Generators;

public class StyleMixTests
{
    private static (int Code, string Err) Run(params string[] args)
    {
        var err = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(["style-mix", "--generator", GeneratorFixtures.StyleGan, .. args], new StringWriter(), err);
        return (code, err.ToString());
    }

    /// <summary>Tile (row, col) of an 8x8-tile grid as RGBA bytes.</summary>
    private static byte[] Tile(SkiaSharp.SKBitmap grid, int row, int col)
    {
        var tile = new List<byte>();
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
            {
                var p = grid.GetPixel(col * 8 + x, row * 8 + y);
                tile.AddRange([p.Red, p.Green, p.Blue]);
            }
        return [.. tile];
    }

    [Test]
    public void MixingEveryLayerGivesTheColumnImageAndNoLayerTheRowImage()
    {
        string dir = Directory.CreateTempSubdirectory("genmetrics-mix-").FullName;
        try
        {
            string all = Path.Combine(dir, "all.png"), some = Path.Combine(dir, "some.png");
            Assert.That(Run("--row-seeds", "1,2", "--col-seeds", "5,6,7", "--col-styles", "0-3", "-o", all).Code, Is.EqualTo(0));
            Assert.That(Run("--row-seeds", "1,2", "--col-seeds", "5,6,7", "--col-styles", "2-3", "-o", some).Code, Is.EqualTo(0));
            using var a = SkiaSharp.SKBitmap.Decode(all);
            using var s = SkiaSharp.SKBitmap.Decode(some);
            Assert.That((a.Width, a.Height), Is.EqualTo((4 * 8, 3 * 8)));
            for (int r = 1; r <= 2; r++)
                for (int c = 1; c <= 3; c++)
                {
                    // All layers from the column seed: the column's own image.
                    Assert.That(Tile(a, r, c), Is.EqualTo(Tile(a, 0, c)), $"all layers, cell ({r}, {c})");
                    // Only the fine layers: neither the row's nor the column's image.
                    Assert.That(Tile(s, r, c), Is.Not.EqualTo(Tile(s, 0, c)), $"layers 2-3, cell ({r}, {c})");
                    Assert.That(Tile(s, r, c), Is.Not.EqualTo(Tile(s, r, 0)), $"layers 2-3, cell ({r}, {c})");
                }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The default --col-styles (0-6) is clipped to this 4-layer generator with one notice, giving the figure of
    /// an explicit 0-3; an explicit layer beyond the generator's is an error naming --col-styles.
    /// </summary>
    [Test]
    public void TheDefaultColStylesFitTheGeneratorAndOnlyAnExplicitOneIsChecked()
    {
        string dir = Directory.CreateTempSubdirectory("genmetrics-mixd-").FullName;
        try
        {
            string byDefault = Path.Combine(dir, "default.png"), explicitAll = Path.Combine(dir, "all.png");
            var (code, err) = Run("--row-seeds", "1,2", "--col-seeds", "3,4", "-o", byDefault);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(err, Does.Contain("--col-styles: default 0-6 clipped to 0-3 (the generator has 4 style layers)").And.Not.Contain("does not exist"));
            Assert.That(Run("--row-seeds", "1,2", "--col-seeds", "3,4", "--col-styles", "0-3", "-o", explicitAll).Code, Is.EqualTo(0));
            Assert.That(File.ReadAllBytes(byDefault), Is.EqualTo(File.ReadAllBytes(explicitAll)));
            (code, err) = Run("--row-seeds", "1,2", "--col-seeds", "3,4", "--col-styles", "0-6", "-o", Path.Combine(dir, "bad.png"));
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("--col-styles: layer 4 does not exist"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void VideoBlendsFromTheRowImagesToTheFigure()
    {
        string dir = Directory.CreateTempSubdirectory("genmetrics-mixv-").FullName;
        try
        {
            string figure = Path.Combine(dir, "mix.png"), frames = Path.Combine(dir, "frames");
            Assert.That(Run("--row-seeds", "1,2", "--col-seeds", "5,6", "--col-styles", "1-3", "-o", figure, "--video", frames, "--frames", "4").Code, Is.EqualTo(0));
            Assert.That(Directory.GetFiles(frames, "frame*.png"), Has.Length.EqualTo(4));
            using var first = SkiaSharp.SKBitmap.Decode(Path.Combine(frames, "frame0000.png"));
            using var last = SkiaSharp.SKBitmap.Decode(Path.Combine(frames, "frame0003.png"));
            using var fig = SkiaSharp.SKBitmap.Decode(figure);
            Assert.That(last.Bytes, Is.EqualTo(fig.Bytes), "the last frame is the figure");
            for (int r = 1; r <= 2; r++)
                for (int c = 1; c <= 2; c++)
                    Assert.That(Tile(first, r, c), Is.EqualTo(Tile(first, r, 0)), $"frame 0, cell ({r}, {c}) is the row's image");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void ALayerBeyondTheGeneratorIsRefused()
    {
        var (code, err) = Run("--row-seeds", "1", "--col-seeds", "2", "--col-styles", "0-6", "-o", "unused.png");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("layer 4 does not exist"));
    }
}
