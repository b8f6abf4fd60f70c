using System.CommandLine;
using System.Globalization;
using GenMetrics.Cli;
using GenMetrics.Features;

namespace GenMetrics.Tests.Cli;

/// <summary>
/// The command line as System.CommandLine parses it: usage mistakes stay one line plus the usage (exit 2),
/// --help exits 0, --version is the library's, [suggest] completes, --quiet silences notices.
/// </summary>
public class CommandLineTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("genmetrics-cl-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Inputs.InputFixtures.Run(args);

    private string WriteFeatures(string name, int n, int d, int seed)
    {
        var rng = new Random(seed);
        var data = new float[n * d];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        string path = Path.Combine(_dir, name);
        FeatureFiles.WriteNpy(path, data, n, d);
        return path;
    }

    [TestCase(new[] { "demo", "--n", "x" }, "demo", "--n expects a whole number, got 'x'")]
    [TestCase(new[] { "demo", "--n", "5" }, "demo", "--n must be between 10 and 1000000, got 5")]
    [TestCase(new[] { "demo", "--n" }, "demo", "--n needs a value")]
    [TestCase(new[] { "demo", "--n", "20", "--n", "30" }, "demo", "--n is given more than once")]
    [TestCase(new[] { "list", "--strict" }, "list", "unknown option --strict")]
    [TestCase(new[] { "list", "--frob=1" }, "list", "unknown option --frob")]
    [TestCase(new[] { "list", "extra" }, "list", "unexpected argument 'extra'")]
    [TestCase(new[] { "metrics", "a.npy" }, "metrics", "missing FAKE")]
    [TestCase(new[] { "stats" }, "stats", "missing FEATURES|IMAGES")]
    [TestCase(new[] { "metrics", "a.npy", "b.npy", "--k", "3,x" }, "metrics", "--k: 'x' is not a whole number >= 1")]
    [TestCase(new[] { "metrics", "a.npy", "b.npy", "--backend", "gpu" }, "metrics", "unknown backend 'gpu' (expected cpu, cuda or auto)")]
    [TestCase(new[] { "generate", "--psi", "high" }, "generate", "--psi expects a number, got 'high'")]
    [TestCase(new[] { "generate", "--grid=yes" }, "generate", "--grid takes no value")]
    [TestCase(new[] { "--backend", "cpu", "metrics", "a.npy", "b.npy" }, "metrics",
        "--backend must come after the command: options go after it (genmetrics metrics ... --backend ...); only -q/--quiet, --version and --help may come before it")]
    [TestCase(new[] { "-q", "--k=3", "metrics", "a.npy", "b.npy" }, "metrics",
        "--k must come after the command: options go after it (genmetrics metrics ... --k ...); only -q/--quiet, --version and --help may come before it")]
    [TestCase(new[] { "--frob", "metrics", "a.npy", "b.npy" }, "metrics",
        "unknown option --frob (and options go after the command; only -q/--quiet, --version and --help may come before it)")]
    public void UsageMistakesAreOneLinePlusTheUsage(string[] args, string command, string message)
    {
        var (code, stdout, err) = Run(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        var lines = err.TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(2), err);
        Assert.That(lines[0], Is.EqualTo($"genmetrics {command}: {message}"));
        Assert.That(lines[1], Does.StartWith($"usage: genmetrics {command}"));
        Assert.That(err, Does.Not.Contain("System.").And.Not.Contain("Int32"), "no .NET type names");
    }

    [Test]
    public void NegativeValuesAreValuesNotOptions()
    {
        // psi -0.5 is a value (StyleGAN allows psi in [-1, 2]): the error is about the missing generator, not an unknown option.
        var (code, _, err) = Run("generate", "--psi", "-0.5", "--seeds", "1", "-o", _dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("genmetrics generate: missing --generator G.json"));
    }

    [Test]
    public void HelpExitsZeroWithEveryOptionAndItsDefault()
    {
        var (code, stdout, err) = Run("metrics", "--help");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.StartWith("usage: genmetrics metrics REAL FAKE [options]"));
        Assert.That(stdout, Does.Contain("  --kid-subsets N").And.Contain("KID subsets (default 100)"));
        Assert.That(stdout, Does.Contain("  -q, --quiet"));
        (code, stdout, _) = Run("stats", "-h");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("-o, --output OUT.npz"));
        (code, stdout, _) = Run("--help");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("usage: genmetrics COMMAND"));
        foreach (var c in Program.Commands) Assert.That(stdout, Does.Contain($"  {c.Name} "), c.Name);
        Assert.That(Run("help").Code, Is.EqualTo(0));
        Assert.That(Run().Code, Is.EqualTo(2), "no command at all is a usage mistake");
    }

    [Test]
    public void EveryHelpThatNamesADefaultNamesTheDeclaredOne()
    {
        foreach (var command in Program.Commands)
            foreach (var option in command.Options.OfType<Option>())
            {
                if (!option.HasDefaultValue || option.Arity.MaximumNumberOfValues == 0) continue;
                string value = Convert.ToString(option.GetDefaultValue(), CultureInfo.InvariantCulture)!;
                Assert.That(option.Description, Does.Contain("default"), $"{command.Name} {option.Name}");
                Assert.That(option.Description, Does.Contain(value), $"{command.Name} {option.Name}: the help must say the declared default {value}");
            }
    }

    [Test]
    public void VersionIsTheEngineLibrarysVersion()
    {
        var (code, stdout, _) = Run("--version");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout.Trim(), Is.EqualTo($"genmetrics {EngineInfo.Version}"));
        Assert.That(Run("version").Out, Is.EqualTo(stdout));
        Assert.That(EngineInfo.Version, Does.Match(@"^\d+\.\d+\.\d+"));
        Assert.That(EngineInfo.Version, Does.Not.Contain("+"), "no source revision suffix");
        Assert.That(typeof(Program).Assembly.GetName().Version, Is.EqualTo(typeof(EngineInfo).Assembly.GetName().Version), "CLI and engine carry one version");
        Assert.That(NativeVersion(), Is.EqualTo(EngineInfo.Version), "the C ABI's genmetrics_version()");
    }

    private static unsafe string NativeVersion()
    {
        delegate* unmanaged<byte*> version = &GenMetrics.Native.Exports.GetVersion;
        return System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)version())!;
    }

    [Test]
    public void SuggestDirectiveCompletesCommandsOptionsAndValues()
    {
        var (code, stdout, _) = Run("[suggest:13]", "genmetrics me");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), Does.Contain("metrics"));
        string line = "genmetrics metrics --backend ";
        (_, stdout, _) = Run($"[suggest:{line.Length}]", line);
        Assert.That(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), Is.EquivalentTo(new[] { "auto", "cpu", "cuda" }));
        line = "genmetrics sweep --trunc";
        (_, stdout, _) = Run($"[suggest:{line.Length}]", line);
        Assert.That(stdout.Trim(), Is.EqualTo("--truncation-cutoff"));
    }

    [Test]
    public void QuietSilencesNoticesButNotErrors()
    {
        string real = WriteFeatures("real.npy", 30, 4, 1);
        string fake = WriteFeatures("fake.npy", 30, 4, 2);
        // KID on 30 samples notes that its subsets are smaller than asked.
        var (code, _, err) = Run("metrics", real, fake, "--metrics", "kid", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Does.Contain("kid: subsets of 30 samples"));
        (code, _, err) = Run("metrics", real, fake, "--metrics", "kid", "--backend", "cpu", "--quiet");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(err, Is.Empty);
        (code, _, err) = Run("metrics", real, Path.Combine(_dir, "nope.npy"), "-q");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("nope.npy"));
    }

    [Test]
    public void InputErrorsAreOneLineEvenOnTheAutoBackend()
    {
        // --backend auto (the default): on a machine without CUDA the CPU-fallback notice belongs to the
        // computation, so an input error before it is still one line.
        string real = WriteFeatures("real.npy", 20, 4, 1);
        foreach (var args in new[]
                 {
                     new[] { "metrics", real, Path.Combine(_dir, "nope.npy") },
                     new[] { "realism", real, Path.Combine(_dir, "nope.npy"), "-o", Path.Combine(_dir, "s.npy") },
                     new[] { "stats", Path.Combine(_dir, "nope.npy"), "-o", Path.Combine(_dir, "s.npz") },
                 })
        {
            var (code, _, err) = Run(args);
            Assert.That(code, Is.EqualTo(2), args[0]);
            Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
            Assert.That(err, Does.StartWith($"genmetrics {args[0]}: ").And.Contain("nope.npy"));
        }
    }

    [Test]
    public void BackendCudaWithoutCudaFailsBeforeAnyInputIsRead()
    {
        if (GenMetrics.Cuda.CudaAvailability.Probe().UnavailableReason is null) Assert.Ignore("CUDA is usable here");
        // The missing input would be the first error if the inputs were read before the backend was checked.
        var (code, _, err) = Run("metrics", Path.Combine(_dir, "nope.npy"), Path.Combine(_dir, "nope2.npy"), "--backend", "cuda");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
        Assert.That(err, Does.StartWith("genmetrics metrics: --backend cuda: "));
    }

    [Test]
    public void TheCpuFallbackNoticeIsPrintedAtMostOnce()
    {
        string real = WriteFeatures("real.npy", 30, 4, 1);
        string fake = WriteFeatures("fake.npy", 30, 4, 2);
        var (code, _, err) = Run("metrics", real, fake, "--metrics", "fid,pr");
        Assert.That(code, Is.EqualTo(0), err);
        int fallbacks = err.Split('\n').Count(l => l.StartsWith("running on the CPU", StringComparison.Ordinal));
        Assert.That(fallbacks, Is.EqualTo(GenMetrics.Cuda.CudaAvailability.Probe().UnavailableReason is null ? 0 : 1), err);
    }

    [Test]
    public void EachCommandDeclaresEachOptionOnce()
    {
        foreach (var command in Program.Commands)
        {
            var names = command.Options.OfType<Option>().SelectMany(o => o.Aliases.Append(o.Name)).ToList();
            Assert.That(names, Is.Unique, command.Name);
            Assert.That(names, Does.Not.Contain("--quiet").And.Not.Contain("--help"), $"{command.Name}: global options are added by Program");
        }
    }
}
