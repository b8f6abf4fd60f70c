using System.Diagnostics;
using GenMetrics.Cli;
using GenMetrics.Features;

namespace GenMetrics.Tests.Inputs;

/// <summary>
/// Every output option of every command is checked before any work: the inputs here do not exist, so an
/// error about the output proves the check ran first. Then: outputs that are inputs (also through a
/// link) are refused, a failed write keeps the result, and Ctrl-C removes the temporary file.
/// </summary>
public class OutputPathTests
{
    string dir = "";
    string file = "";

    [SetUp]
    public void SetUp()
    {
        dir = Directory.CreateTempSubdirectory("genmetrics-outputs-").FullName;
        file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "x");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string Missing(string name) => Path.Combine(dir, "no-such-input", name);

    /// <summary>(arguments with {OUT} for the output, option name, a good extension) for every file output.</summary>
    IEnumerable<(string[] Args, string Option, string Extension)> FileOutputs() =>
    [
        (["metrics", Missing("r.npy"), Missing("f.npy"), "--json", "{OUT}"], "--json", ".json"),
        (["is", Missing("l.npy"), "--json", "{OUT}"], "--json", ".json"),
        (["bench", "--quick", "--json", "{OUT}"], "--json", ".json"),
        (["demo", "--n", "50", "--json", "{OUT}"], "--json", ".json"),
        (["stats", Missing("f.npy"), "-o", "{OUT}"], "-o", ".npz"),
        (["realism", Missing("r.npy"), Missing("f.npy"), "-o", "{OUT}"], "-o", ".npy"),
        (["style-mix", "--generator", Missing("g.json"), "--row-seeds", "1", "--col-seeds", "2", "-o", "{OUT}"], "-o", ".png"),
        (["interpolate", "--generator", Missing("g.json"), "--seeds", "1,2", "-o", Path.Combine(dir, "frames"), "--video", "{OUT}"], "--video", ".mp4"),
    ];

    /// <summary>The same for every folder output.</summary>
    IEnumerable<(string[] Args, string Option)> FolderOutputs() =>
    [
        (["generate", "--generator", Missing("g.json"), "--seeds", "1", "-o", "{OUT}"], "-o"),
        (["rank", "--generator", Missing("g.json"), "--real", Missing("r.npy"), "-o", "{OUT}"], "-o"),
        (["sweep", "--generator", Missing("g.json"), "--real", Missing("r.npy"), "-o", "{OUT}"], "-o"),
        (["interpolate", "--generator", Missing("g.json"), "--seeds", "1,2", "-o", "{OUT}"], "-o"),
        (["style-mix", "--generator", Missing("g.json"), "--row-seeds", "1", "--col-seeds", "2", "-o", Path.Combine(dir, "grid.png"), "--video", "{OUT}"], "--video"),
        (["models", "install", "inception", "--from", Missing("x.pth"), "--dir", "{OUT}"], "--dir"),
    ];

    static string[] With(string[] args, string output) => args.Select(a => a == "{OUT}" ? output : a).ToArray();

    static void AssertOneLineError(string[] args, string expected)
    {
        var watch = Stopwatch.StartNew();
        var (code, stdout, stderr) = InputFixtures.Run(args);
        Assert.That(code, Is.EqualTo(2), $"{string.Join(" ", args)}\n{stdout}{stderr}");
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1).Or.Length.EqualTo(2), stderr); // the CPU-backend notice may precede
        Assert.That(stderr, Does.Contain(expected), string.Join(" ", args));
        Assert.That(stderr, Does.Not.Contain("no-such-input"), "the output must be checked before the inputs are read");
        Assert.That(watch.Elapsed.TotalSeconds, Is.LessThan(20));
    }

    [Test]
    public void EveryFileOutputIsCheckedBeforeAnyWork()
    {
        foreach (var (args, option, ext) in FileOutputs())
        {
            AssertOneLineError(With(args, Path.Combine(dir, "missing-folder", "out" + ext)), "does not exist");
            AssertOneLineError(With(args, Path.Combine(dir, "out.txt")), $"{option} writes");
            AssertOneLineError(With(args, Path.Combine(file, "out" + ext)), "does not exist");
            AssertOneLineError(With(args, "/proc/out" + ext), "cannot write in /proc (the folder is not writable)");
            AssertOneLineError(With(args, dir), "is a folder");
        }
    }

    [Test]
    public void EveryFolderOutputIsCheckedBeforeAnyWork()
    {
        foreach (var (args, option) in FolderOutputs())
        {
            AssertOneLineError(With(args, file), $"{option}: is a file");
            AssertOneLineError(With(args, Path.Combine(file, "sub")), "cannot create the folder");
        }
    }

    [Test]
    public void AnOutputThatIsAnInputIsRefusedAlsoThroughALink()
    {
        var data = new float[6 * 3];
        for (int i = 0; i < data.Length; i++) data[i] = i % 5 * 0.3f;
        string real = Path.Combine(dir, "real.npy"), fake = Path.Combine(dir, "fake.npy");
        FeatureFiles.WriteNpy(real, data, 6, 3);
        FeatureFiles.WriteNpy(fake, data, 6, 3);
        byte[] before = File.ReadAllBytes(fake);
        string link = Path.Combine(dir, "link.npy");
        File.CreateSymbolicLink(link, fake);
        string linkedDir = Path.Combine(dir, "linked-dir");
        Directory.CreateSymbolicLink(linkedDir, dir);

        foreach (var output in new[] { fake, link, Path.Combine(linkedDir, "fake.npy"), Path.Combine(dir, ".", "fake.npy") })
        {
            var (code, _, stderr) = InputFixtures.Run("realism", real, fake, "-o", output, "--backend", "cpu");
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr, Does.Contain("is the input").And.Contain("choose another name"));
        }
        var (c2, _, e2) = InputFixtures.Run("stats", fake, "-o", Path.ChangeExtension(fake, ".npz"));
        Assert.That(c2, Is.EqualTo(0), e2);
        string npz = Path.Combine(dir, "s.npz");
        File.Copy(Path.ChangeExtension(fake, ".npz"), npz);
        var (c3, _, e3) = InputFixtures.Run("stats", npz, "-o", npz);
        Assert.That(c3, Is.EqualTo(2));
        Assert.That(e3, Does.Contain("is the input"));
        Assert.That(File.ReadAllBytes(fake), Is.EqualTo(before));
    }

    [Test]
    public void AFailedWriteStillGivesTheResult()
    {
        var stdout = new StringWriter();
        var context = new CommandContext(stdout, new StringWriter());
        var e = Assert.Throws<InputException>(() => OutputPaths.WriteText(Path.Combine(dir, "gone", "r.json"), "{\"fid\": 1.5}\n", context));
        Assert.That(stdout.ToString(), Is.EqualTo("{\"fid\": 1.5}\n"));
        Assert.That(e!.Message, Does.Contain("printed to stdout instead"));

        var e2 = Assert.Throws<InputException>(() => OutputPaths.Save(Path.Combine(dir, "gone", "s.npy"), p => FeatureFiles.WriteNpy(p, new float[] { 1, 2 }, 1, 2), context));
        string rescued = e2!.Message[(e2.Message.IndexOf("saved to ", StringComparison.Ordinal) + 9)..^" instead".Length];
        Assert.That(((FeatureFileInput)FeatureFiles.Open(rescued)).Dim, Is.EqualTo(2));
        Directory.Delete(Path.GetDirectoryName(rescued)!, recursive: true);
    }

    [Test]
    public void TempFilesAreRegisteredWhileWrittenAndDeletedOnRequest()
    {
        string temp = Path.Combine(dir, ".x.tmp");
        File.WriteAllText(temp, "partial");
        using (TempFiles.Track(temp))
        {
            Assert.That(TempFiles.Current, Does.Contain(temp));
            TempFiles.DeleteAll();
        }
        Assert.That(File.Exists(temp), Is.False);
        Assert.That(TempFiles.Current, Does.Not.Contain(temp));
    }

    /// <summary>The real thing: `genmetrics stats` in its own process, interrupted by SIGINT while it writes.</summary>
    [Test]
    public void CtrlCWhileWritingLeavesNoTemporaryFile()
    {
        const int n = 3, d = 2048;
        var rng = new Random(9);
        var data = new float[n * d];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        string features = Path.Combine(dir, "wide.npy"), output = Path.Combine(dir, "wide_stats.npz");
        FeatureFiles.WriteNpy(features, data, n, d);
        string cli = Path.Combine(TestContext.CurrentContext.TestDirectory, "genmetrics.dll");
        Assert.That(cli, Does.Exist);
        bool interrupted = false;
        for (int attempt = 0; attempt < 3 && !interrupted; attempt++)
        {
            var start = new ProcessStartInfo("dotnet", [cli, "stats", features, "-o", output, "--backend", "cpu"])
            { RedirectStandardError = true, RedirectStandardOutput = true };
            using var process = Process.Start(start)!;
            var watch = Stopwatch.StartNew();
            while (!process.HasExited && watch.Elapsed.TotalSeconds < 60)
            {
                if (Directory.EnumerateFiles(dir, ".wide_stats.npz.*.tmp").Any())
                {
                    using var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
                    kill.WaitForExit();
                    interrupted = true;
                    break;
                }
                Thread.Sleep(1);
            }
            process.WaitForExit(60_000);
            if (!interrupted) File.Delete(output); // finished before the poll saw the file: try again
        }
        if (!interrupted) Assert.Inconclusive("the write finished before the temporary file was seen three times");
        Assert.That(Directory.EnumerateFiles(dir, "*.tmp", new EnumerationOptions { AttributesToSkip = 0 }), Is.Empty);
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void AnImageFolderGivenForFeaturesSaysWhatItNeeds()
    {
        string images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        string? home = Environment.GetEnvironmentVariable("GENMETRICS_HOME");
        Environment.SetEnvironmentVariable("GENMETRICS_HOME", Path.Combine(dir, "empty-home"));
        try
        {
            var data = new float[8 * 3];
            string feats = Path.Combine(dir, "f.npy");
            FeatureFiles.WriteNpy(feats, data, 8, 3);
            var (code, _, stderr) = InputFixtures.Run("metrics", images, feats, "--metrics", "fid");
            Assert.That(code, Is.EqualTo(2));
            Assert.That(stderr, Does.Contain($"{images}: is a folder, read as a set of images; FID and KID from images need the inception network")
                .And.Contain("genmetrics models install inception").And.Contain("or give a .npy/.npz of features instead"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("GENMETRICS_HOME", home);
        }
    }
}
