using System.CommandLine;
using GenMetrics.Cli;
using GenMetrics.Features;

namespace GenMetrics.Tests.Cli;

/// <summary>
/// Mistakes a first-time user made: standard output that cannot be written, options given twice, a bad
/// --metrics value without the usage line, the CPU notice before an input error, image-only options on
/// feature files. Each is one clear line (plus the usage line for a usage mistake) and exit 2.
/// </summary>
public class CliMistakesTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("genmetrics-mistakes-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Inputs.InputFixtures.Run(args);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private string WriteFeatures(string name, int n, int d, int seed)
    {
        var rng = new Random(seed);
        var data = new float[n * d];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        string path = Path.Combine(_dir, name);
        FeatureFiles.WriteNpy(path, data, n, d);
        return path;
    }

    /// <summary>Standard output on a full disk: every write (or only the flush) fails with ENOSPC's IOException.</summary>
    private sealed class FullDisk(bool onlyFlush) : StringWriter
    {
        public override void Write(char value) { if (!onlyFlush) throw Full(); base.Write(value); }
        public override void Write(string? value) { if (!onlyFlush) throw Full(); base.Write(value); }
        public override void Write(char[] buffer, int index, int count) { if (!onlyFlush) throw Full(); base.Write(buffer, index, count); }
        public override void Flush() => throw Full();
        private static IOException Full() => new("No space left on device");
    }

    private static (int Code, string Err) RunOnFullDisk(bool onlyFlush, params string[] args)
    {
        var stderr = new StringWriter();
        int code = Program.Run(args, new FullDisk(onlyFlush), stderr);
        return (code, stderr.ToString());
    }

    [TestCase(false)]
    [TestCase(true)]
    public void StdoutThatCannotBeWrittenIsOneLineAndExit2(bool onlyFlush)
    {
        string real = WriteFeatures("real.npy", 60, 8, 1), fake = WriteFeatures("fake.npy", 60, 8, 2);
        string[][] commands = [["list"], ["--help"], ["metrics", "--help"], ["metrics", real, fake, "-q", "--metrics", "fid", "--backend", "cpu"]];
        foreach (var args in commands)
        {
            var (code, err) = RunOnFullDisk(onlyFlush, args);
            Assert.That(code, Is.EqualTo(Program.ExitBadInput), string.Join(' ', args));
            Assert.That(Lines(err), Is.EqualTo(new[] { "genmetrics: cannot write the results to standard output: No space left on device" }), string.Join(' ', args));
        }
    }

    /// <summary>Every option of every command, written twice, is refused (except the repeatable ones, such as --list).</summary>
    [Test]
    public void EveryOptionGivenTwiceIsRefused()
    {
        int checkedOptions = 0;
        foreach (var command in Program.Commands)
        {
            foreach (var option in command.Options.OfType<Option>())
            {
                if (option.Arity.MaximumNumberOfValues > 1) continue; // declared repeatable
                string[] once = option.Arity.MaximumNumberOfValues == 0 ? [option.Name] : [option.Name, "1"];
                var (code, _, err) = Run([command.Name, .. once, .. once]);
                Assert.That(code, Is.EqualTo(Program.ExitBadInput), $"{command.Name} {option.Name}");
                Assert.That(Lines(err), Is.EqualTo(new[] { $"genmetrics {command.Name}: {option.Name} is given more than once", Lines(err)[^1] }), $"{command.Name} {option.Name}");
                Assert.That(Lines(err)[^1], Does.StartWith($"usage: genmetrics {command.Name}"));
                checkedOptions++;
            }
        }
        Assert.That(checkedOptions, Is.GreaterThan(50));
    }

    [Test]
    public void RepeatedKAndFlagAreRefused()
    {
        string real = WriteFeatures("real.npy", 60, 8, 1), fake = WriteFeatures("fake.npy", 60, 8, 2);
        var (code, @out, err) = Run("metrics", real, fake, "--metrics", "pr", "--k", "3", "--k", "5");
        Assert.That((code, @out), Is.EqualTo((Program.ExitBadInput, "")));
        Assert.That(Lines(err)[0], Is.EqualTo("genmetrics metrics: --k is given more than once"));
        (code, _, err) = Run("metrics", real, fake, "--fp32-check", "--fp32-check");
        Assert.That(code, Is.EqualTo(Program.ExitBadInput));
        Assert.That(Lines(err)[0], Is.EqualTo("genmetrics metrics: --fp32-check is given more than once"));
        // One --k still takes one comma-separated value and leaves the next argument an input.
        (code, @out, _) = Run("metrics", real, "--k", "3", fake, "--metrics", "pr", "--backend", "cpu", "-q");
        Assert.That(code, Is.EqualTo(Program.ExitOk));
        Assert.That(@out, Does.Contain("k "));
    }

    [TestCase("--metrics", "foo", "--metrics: unknown metric 'foo' (expected fid, kid, pr, prdc, sym or all)")]
    [TestCase("--convention", "nope", "--convention: unknown convention 'nope'")]
    public void BadOptionValueFromTheEngineAddsTheUsageLine(string option, string value, string message)
    {
        string real = WriteFeatures("real.npy", 60, 8, 1), fake = WriteFeatures("fake.npy", 60, 8, 2);
        var (code, _, err) = Run("metrics", real, fake, option, value);
        Assert.That(code, Is.EqualTo(Program.ExitBadInput));
        var lines = Lines(err);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0], Does.StartWith("genmetrics metrics: " + message));
        Assert.That(lines[1], Does.StartWith("usage: genmetrics metrics REAL FAKE"));
    }

    /// <summary>Sizes the metrics cannot take are refused before the computation starts: no "running on the CPU" line first.</summary>
    [TestCase(3, "pr", null, null, "small.npy: needs at least k+1 = 4 samples for k = 3, has 3")]
    [TestCase(60, "pr", "5000", null, "real.npy: needs at least k+1 = 5001 samples for k = 5000, has 60")]
    [TestCase(3, "kid", null, "torch-fidelity", "small.npy: KID with subsets of 1000 needs at least 1000 samples per set, has 3")]
    [TestCase(3, "fid,kid,pr", null, "torch-fidelity", "small.npy: KID with subsets of 1000 needs at least 1000 samples per set, has 3")]
    public void InputErrorFoundBeforeTheWorkIsOneLine(int fakeRows, string metrics, string? k, string? convention, string message)
    {
        string real = WriteFeatures("real.npy", 60, 8, 1), fake = WriteFeatures(fakeRows == 60 ? "fake.npy" : "small.npy", fakeRows, 8, 2);
        var args = new List<string> { "metrics", real, fake, "--metrics", metrics };
        if (k is not null) args.AddRange(["--k", k]);
        if (convention is not null) args.AddRange(["--convention", convention]);
        var (code, @out, err) = Run([.. args]);
        Assert.That((code, @out), Is.EqualTo((Program.ExitBadInput, "")));
        var lines = Lines(err);
        Assert.That(lines, Has.Length.EqualTo(1), err);
        Assert.That(lines[0], Does.StartWith("genmetrics metrics: " + Path.Combine(_dir, "")).And.Contain(message));
    }

    [TestCase("stats", "--max-images", "3", "the input is a feature or statistics file")]
    [TestCase("metrics", "--network", "vgg16", "the inputs are feature or statistics files")]
    [TestCase("metrics", "--mode", "legacy-pytorch", "the inputs are feature or statistics files")]
    [TestCase("metrics", "--strict", null, "the inputs are feature or statistics files")]
    [TestCase("realism", "--batch-size", "8", "the inputs are feature or statistics files")]
    [TestCase("is", "--device", "cpu", "the input is a feature or statistics file")]
    public void ImageOnlyOptionOnFeatureFilesIsAUsageError(string command, string option, string? value, string why)
    {
        string real = WriteFeatures("real.npy", 60, 8, 1), fake = WriteFeatures("fake.npy", 60, 8, 2);
        var args = new List<string> { command, real };
        if (command is "metrics" or "realism") args.Add(fake);
        if (command is "stats" or "realism") args.AddRange(["-o", Path.Combine(_dir, command == "stats" ? "out.npz" : "out.npy")]);
        args.Add(option);
        if (value is not null) args.Add(value);
        var (code, @out, err) = Run([.. args]);
        Assert.That((code, @out), Is.EqualTo((Program.ExitBadInput, "")));
        var lines = Lines(err);
        Assert.That(lines, Has.Length.EqualTo(2), err);
        Assert.That(lines[0], Is.EqualTo($"genmetrics {command}: {option} applies to image inputs (folders, .zip files, image lists) only; {why}"));
        Assert.That(lines[1], Does.StartWith($"usage: genmetrics {command} "));
        Assert.That(Directory.GetFiles(_dir, "out.*"), Is.Empty);
    }

    /// <summary>The same options with an image folder among the inputs apply to it: no error.</summary>
    [Test]
    public void ImageOnlyOptionWithAnImageInputIsNotRefused()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "images")).FullName;
        string fake = WriteFeatures("fake.npy", 60, 8, 2);
        var (_, _, err) = Run("metrics", folder, fake, "--max-images", "3");
        Assert.That(err, Does.Not.Contain("applies to image inputs"));
    }
}
