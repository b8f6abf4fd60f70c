using GenMetrics.Generators;

namespace GenMetrics.Tests.Generators;

public class InterpolateTests
{
    [Test]
    public void LerpAndSlerpStartAndEndOnTheLatents()
    {
        var a = Latents.ForSeed(1, 64);
        var b = Latents.ForSeed(2, 64);
        Assert.That(LatentPath.Lerp(a, b, 0), Is.EqualTo(a));
        Assert.That(LatentPath.Lerp(a, b, 1), Is.EqualTo(b));
        Assert.That(LatentPath.Slerp(a, b, 0), Is.EqualTo(a).Within(1e-5));
        Assert.That(LatentPath.Slerp(a, b, 1), Is.EqualTo(b).Within(1e-5));
    }

    [Test]
    public void SlerpFollowsTheGreatCircleAtConstantAngularSpeed()
    {
        // Unit vectors at 90 degrees: slerp at t is (cos(t·π/2), sin(t·π/2)), whose norm stays 1.
        float[] a = [1, 0, 0];
        float[] b = [0, 1, 0];
        foreach (double t in new[] { 0.25, 0.5, 0.8 })
        {
            var r = LatentPath.Slerp(a, b, t);
            Assert.That(r[0], Is.EqualTo(Math.Cos(t * Math.PI / 2)).Within(1e-6));
            Assert.That(r[1], Is.EqualTo(Math.Sin(t * Math.PI / 2)).Within(1e-6));
            Assert.That(r[2], Is.EqualTo(0).Within(1e-7));
        }
    }

    [Test]
    public void WSpaceFramesStartAndEndOnTheSeedsImages()
    {
        string dir = Directory.CreateTempSubdirectory("genmetrics-interp-").FullName;
        try
        {
            var err = new StringWriter();
            int code = GenMetrics.Cli.Program.Run(["interpolate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3,7", "--steps", "5",
                "--space", "w", "--psi", "0.7", "-o", Path.Combine(dir, "frames")], new StringWriter(), err);
            Assert.That(code, Is.EqualTo(0), err.ToString());
            code = GenMetrics.Cli.Program.Run(["generate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3,7", "--psi", "0.7",
                "-o", Path.Combine(dir, "seeds")], new StringWriter(), err);
            Assert.That(code, Is.EqualTo(0), err.ToString());
            Assert.That(Directory.GetFiles(Path.Combine(dir, "frames"), "frame*.png"), Has.Length.EqualTo(6));
            Assert.That(Pixels(Path.Combine(dir, "frames", "frame0000.png")), Is.EqualTo(Pixels(Path.Combine(dir, "seeds", "seed0003.png"))));
            Assert.That(Pixels(Path.Combine(dir, "frames", "frame0005.png")), Is.EqualTo(Pixels(Path.Combine(dir, "seeds", "seed0007.png"))));
            Assert.That(Pixels(Path.Combine(dir, "frames", "frame0002.png")), Is.Not.EqualTo(Pixels(Path.Combine(dir, "frames", "frame0000.png"))));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void OneSeedIsNotAPath()
    {
        var err = new StringWriter();
        int code = GenMetrics.Cli.Program.Run(["interpolate", "--generator", GeneratorFixtures.StyleGan, "--seeds", "3", "-o", "unused"], new StringWriter(), err);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.ToString(), Does.Contain("at least 2 seeds"));
    }

    private static byte[] Pixels(string png)
    {
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        return bitmap.Bytes;
    }
}
