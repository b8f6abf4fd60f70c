using System.Runtime.InteropServices;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Metrics;
using GenMetrics.Native;

namespace GenMetrics.Tests.Native;

/// <summary>
/// The C API called as C calls it: through unmanaged function pointers to the [UnmanagedCallersOnly]
/// exports. Numbers must equal the managed API's on the same data; bad arguments must come back as a
/// status and a message, never as a crash.
/// </summary>
public unsafe class NativeExportsTests
{
    private const int Dim = 8;
    private nint _context;

    [SetUp]
    public void CreateContext()
    {
        nint context;
        Assert.That(Create("cpu"u8, &context), Is.EqualTo(NativeStatus.Ok), LastErrorText());
        _context = context;
    }

    [TearDown]
    public void DestroyContext()
    {
        delegate* unmanaged<nint, void> destroy = &Exports.DestroyContext;
        destroy(_context);
    }

    [Test]
    public void VersionMatchesHeader()
    {
        delegate* unmanaged<int> apiVersion = &Exports.GetApiVersion;
        delegate* unmanaged<byte*> version = &Exports.GetVersion;
        var header = File.ReadAllText(Path.Combine(RepositoryRoot(), "include", "genmetrics.h"));
        Assert.That(header, Does.Contain($"#define GENMETRICS_API_VERSION {apiVersion()}"));
        Assert.That(Marshal.PtrToStringUTF8((nint)version()), Does.Match(@"^\d+\.\d+\.\d+$"));
    }

    [Test]
    public void HeaderDefaultsAreTheRegistrysAndItsPrdcFieldsAreItsKeys()
    {
        var header = File.ReadAllText(Path.Combine(RepositoryRoot(), "include", "genmetrics.h"));
        Assert.That(header, Does.Contain($"#define GENMETRICS_DEFAULT_KID_SUBSETS {MetricDefaults.KidSubsets}\n"));
        Assert.That(header, Does.Contain($"#define GENMETRICS_DEFAULT_KID_SUBSET_SIZE {MetricDefaults.KidSubsetSize}\n"));
        Assert.That(header, Does.Contain($"#define GENMETRICS_DEFAULT_SEED {MetricDefaults.Seed}\n"));
        Assert.That(header, Does.Contain($"#define GENMETRICS_DEFAULT_PR_K {MetricDefaults.PrK}\n"));
        Assert.That(header, Does.Contain($"#define GENMETRICS_DEFAULT_PRDC_K {MetricDefaults.PrdcK}\n"));
        // genmetrics_prdc_result: one double per key of the pr and prdc groups, named as the key, in this order.
        int start = header.IndexOf("typedef struct genmetrics_prdc_result", StringComparison.Ordinal);
        string body = header[start..header.IndexOf("} genmetrics_prdc_result;", start, StringComparison.Ordinal)];
        var fields = System.Text.RegularExpressions.Regex.Matches(body, @"double (\w+);").Select(m => m.Groups[1].Value).ToArray();
        Assert.That(fields, Is.EqualTo(new[] { "precision", "recall", "density", "coverage", "prdc_precision", "prdc_recall" }));
        Assert.That(fields, Is.EquivalentTo(MetricRegistry.Get(MetricGroup.Pr).Keys.Concat(MetricRegistry.Get(MetricGroup.Prdc).Keys)));
        Assert.That(sizeof(NativePrdcResult), Is.EqualTo(fields.Length * sizeof(double)));
    }

    [Test]
    public void FidFromFloat32MatchesEvaluator()
    {
        var real = RandomMatrix(60, 1, 0f, "real");
        var fake = RandomMatrix(50, 2, 0.3f, "fake");
        double fid;
        fixed (float* r = real.Data, f = fake.Data)
        {
            var a = Describe(r, real.Rows, Dim, NativeDType.Float32);
            var b = Describe(f, fake.Rows, Dim, NativeDType.Float32);
            delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, double*, NativeStatus> call = &Exports.Fid;
            Assert.That(call(_context, &a, &b, &fid), Is.EqualTo(NativeStatus.Ok), LastErrorText());
        }
        var expected = Evaluate(real, fake, new EvaluationOptions { Groups = [MetricGroup.Fid] })["fid"];
        Assert.That(fid, Is.EqualTo(expected).Within(1e-9).Percent);
        Assert.That(fid, Is.GreaterThan(0.1));
        Assert.That(LastErrorText(), Is.Empty);
    }

    [Test]
    public void FidFromFloat64UsesTheExactValues()
    {
        var real = RandomDoubles(60, 3, 0);
        var fake = RandomDoubles(50, 4, 0.3);
        double fid, fidFromStatistics;
        fixed (double* r = real, f = fake)
        {
            var a = Describe(r, 60, Dim, NativeDType.Float64);
            var b = Describe(f, 50, Dim, NativeDType.Float64);
            delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, double*, NativeStatus> call = &Exports.Fid;
            Assert.That(call(_context, &a, &b, &fid), Is.EqualTo(NativeStatus.Ok), LastErrorText());
        }
        // Reference statistics by plain float64 loops (np.cov, divisor N - 1) from the same doubles.
        var (muA, sigmaA) = MeanAndCovariance(real, 60);
        var (muB, sigmaB) = MeanAndCovariance(fake, 50);
        fixed (double* ma = muA, sa = sigmaA, mb = muB, sb = sigmaB)
        {
            delegate* unmanaged<nint, double*, double*, double*, double*, long, double*, NativeStatus> call = &Exports.FidFromStatistics;
            Assert.That(call(_context, ma, sa, mb, sb, Dim, &fidFromStatistics), Is.EqualTo(NativeStatus.Ok), LastErrorText());
        }
        Assert.That(fid, Is.EqualTo(fidFromStatistics).Within(1e-9).Percent);

        // The float32 rounding of the same data moves FID by far more than that tolerance.
        var rounded32 = Evaluate(ToMatrix(real, 60, "real"), ToMatrix(fake, 50, "fake"), new EvaluationOptions { Groups = [MetricGroup.Fid] })["fid"];
        Assert.That(Math.Abs(rounded32 - fid), Is.GreaterThan(1e-10 * fid));
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(5)]
    public void PrecisionRecallDensityCoverageMatchEvaluator(int k)
    {
        var real = RandomMatrix(40, 5, 0f, "real");
        var fake = RandomMatrix(30, 6, 0.5f, "fake");
        NativePrdcResult result;
        fixed (float* r = real.Data, f = fake.Data)
        {
            var a = Describe(r, real.Rows, Dim, NativeDType.Float32);
            var b = Describe(f, fake.Rows, Dim, NativeDType.Float32);
            delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, int, NativePrdcResult*, NativeStatus> call = &Exports.Prdc;
            Assert.That(call(_context, &a, &b, k, &result), Is.EqualTo(NativeStatus.Ok), LastErrorText());
        }
        var expected = Evaluate(real, fake, new EvaluationOptions { Groups = [MetricGroup.Pr, MetricGroup.Prdc], Ks = [k] });
        var got = result;
        Assert.Multiple(() =>
        {
            Assert.That(got.Precision, Is.EqualTo(expected["precision"]));
            Assert.That(got.Recall, Is.EqualTo(expected["recall"]));
            Assert.That(got.Density, Is.EqualTo(expected["density"]));
            Assert.That(got.Coverage, Is.EqualTo(expected["coverage"]));
            Assert.That(got.PrdcPrecision, Is.EqualTo(expected["prdc_precision"]));
            Assert.That(got.PrdcRecall, Is.EqualTo(expected["prdc_recall"]));
        });
    }

    [Test]
    public void RealismScoresMatchManagedScores()
    {
        var real = RandomMatrix(40, 7, 0f, "real");
        var fake = RandomMatrix(25, 8, 0.2f, "fake");
        var scores = new float[fake.Rows + 3];
        Array.Fill(scores, -1f);
        fixed (float* r = real.Data, f = fake.Data, s = scores)
        {
            var a = Describe(r, real.Rows, Dim, NativeDType.Float32);
            var b = Describe(f, fake.Rows, Dim, NativeDType.Float32);
            delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, int, float*, long, NativeStatus> call = &Exports.RealismScores;
            Assert.That(call(_context, &a, &b, 3, s, scores.Length), Is.EqualTo(NativeStatus.Ok), LastErrorText());
        }
        using var backend = new CpuBackend();
        var expected = Realism.Scores(real, fake, backend, k: 3).Scores;
        Assert.That(scores.Take(fake.Rows), Is.EqualTo(expected));
        Assert.That(scores.Skip(fake.Rows), Is.All.EqualTo(-1f), "nothing written past fake->rows");
    }

    [Test]
    public void KidMatchesEvaluator()
    {
        var real = RandomMatrix(40, 9, 0f, "real");
        var fake = RandomMatrix(35, 10, 0.4f, "fake");
        double mean, std;
        fixed (float* r = real.Data, f = fake.Data)
        {
            var a = Describe(r, real.Rows, Dim, NativeDType.Float32);
            var b = Describe(f, fake.Rows, Dim, NativeDType.Float32);
            delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, int, int, int, double*, double*, NativeStatus> call = &Exports.Kid;
            Assert.That(call(_context, &a, &b, 7, 20, 11, &mean, &std), Is.EqualTo(NativeStatus.Ok), LastErrorText());
        }
        var expected = Evaluate(real, fake, new EvaluationOptions { Groups = [MetricGroup.Kid], KidSubsets = 7, KidSubsetSize = 20, Seed = 11 });
        Assert.That(mean, Is.EqualTo(expected["kid_mean"]));
        Assert.That(std, Is.EqualTo(expected["kid_std"]));
    }

    [Test]
    public void BadArgumentsReturnCodeAndMessage()
    {
        var data = new float[20 * Dim];
        var other = new float[20 * (Dim + 1)];
        delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, double*, NativeStatus> fid = &Exports.Fid;
        delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, int, NativePrdcResult*, NativeStatus> prdc = &Exports.Prdc;
        delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, int, float*, long, NativeStatus> realism = &Exports.RealismScores;
        double value = 123;
        NativePrdcResult result;
        fixed (float* d = data, o = other)
        {
            var good = Describe(d, 20, Dim, NativeDType.Float32);
            var empty = Describe(d, 0, Dim, NativeDType.Float32);
            var wide = Describe(o, 20, Dim + 1, NativeDType.Float32);
            var nullData = Describe((float*)null, 20, Dim, NativeDType.Float32);
            var badType = good with { DType = 7 };

            ExpectError(fid(_context, null, &good, &value), NativeStatus.Argument, "real is NULL");
            ExpectError(fid(_context, &good, &nullData, &value), NativeStatus.Argument, "fake->data is NULL");
            ExpectError(fid(_context, &good, &good, null), NativeStatus.Argument, "out_fid is NULL");
            ExpectError(fid(0, &good, &good, &value), NativeStatus.Argument, "context is NULL");
            ExpectError(fid(_context, &badType, &good, &value), NativeStatus.Argument, "real->dtype is 7");
            ExpectError(fid(_context, &empty, &good, &value), NativeStatus.Input, "real: no samples (rows = 0)");
            ExpectError(fid(_context, &good, &wide, &value), NativeStatus.Input, "dimension mismatch: real has 8 features per sample, fake has 9");
            Assert.That(value, Is.EqualTo(123), "outputs untouched on failure");

            ExpectError(prdc(_context, &good, &good, 20, &result), NativeStatus.Input, "real: 20 samples, k = 20 needs at least 21");
            ExpectError(prdc(_context, &good, &good, 0, &result), NativeStatus.Argument, "k is 0");
            ExpectError(prdc(_context, &good, &empty, 3, &result), NativeStatus.Input, "fake: no samples");

            var scores = new float[19];
            fixed (float* s = scores)
                ExpectError(realism(_context, &good, &good, 3, s, scores.Length), NativeStatus.Argument, "out_capacity is 19");

            delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, int, int, int, double*, double*, NativeStatus> kid = &Exports.Kid;
            ExpectError(kid(_context, &good, &good, 0, 10, 1, &value, null), NativeStatus.Input, "KID needs at least 1 subset");
            ExpectError(kid(_context, &good, &good, 5, 10, 1, null, null), NativeStatus.Argument, "out_mean is NULL");

            delegate* unmanaged<nint, double*, double*, double*, double*, long, double*, NativeStatus> fromStatistics = &Exports.FidFromStatistics;
            var mu = new double[Dim];
            var sigma = new double[Dim * Dim];
            fixed (double* m = mu, c = sigma)
            {
                ExpectError(fromStatistics(_context, m, c, m, null, Dim, &value), NativeStatus.Argument, "sigma_fake is NULL");
                ExpectError(fromStatistics(_context, m, c, m, c, 0, &value), NativeStatus.Argument, "dim is 0");
                sigma[3] = double.PositiveInfinity;
                ExpectError(fromStatistics(_context, m, c, m, c, Dim, &value), NativeStatus.Input, "real: sigma[0, 3] is");
            }

            data[5] = float.NaN;
            ExpectError(fid(_context, &good, &good, &value), NativeStatus.Input, "real: value at row 0, column 5 is NaN");
        }
    }

    [Test]
    public void ACudaErrorDuringTheWorkIsABackendError()
    {
        var e = new GenMetrics.Cuda.Interop.CudaException(GenMetrics.Cuda.Interop.CudaLibrary.Driver, "cuMemAlloc(1024 bytes)", 2, "CUDA_ERROR_OUT_OF_MEMORY: out of memory");
        Assert.That(LastError.Set(e), Is.EqualTo(NativeStatus.Backend));
        Assert.That(LastErrorText(), Does.StartWith("CUDA error: ").And.Contain("CUDA_ERROR_OUT_OF_MEMORY"));
    }

    [Test]
    public void BackendAndContextErrors()
    {
        nint context = 77;
        ExpectError(Create("tpu"u8, &context), NativeStatus.Backend, "unknown backend 'tpu'");
        Assert.That(context, Is.EqualTo((nint)77), "out_context untouched on failure");
        ExpectError(Create("cpu"u8, null), NativeStatus.Argument, "out_context is NULL");
        ExpectError(Create("cpu:tf32"u8, &context), NativeStatus.Backend, "precision tf32 needs the CUDA backend");
        ExpectError(Create("cpu:fp8"u8, &context), NativeStatus.Backend, "unknown precision 'fp8'");
        Assert.That(context, Is.EqualTo((nint)77), "out_context untouched on failure");
        Assert.That(Create("cpu:fp32"u8, &context), Is.EqualTo(NativeStatus.Ok), LastErrorText());
        delegate* unmanaged<nint, void> release = &Exports.DestroyContext;
        release(context);

        Assert.That(Create("cpu"u8, &context), Is.EqualTo(NativeStatus.Ok));
        delegate* unmanaged<nint, void> destroy = &Exports.DestroyContext;
        delegate* unmanaged<nint, byte*> backendName = &Exports.GetContextBackend;
        Assert.That(Marshal.PtrToStringUTF8((nint)backendName(context)), Is.EqualTo("cpu"));
        destroy(context);
        destroy(context);
        Assert.That((nint)backendName(context), Is.EqualTo(nint.Zero));
        Assert.That(LastErrorText(), Does.Contain("not a live genmetrics_context"));
    }

    [Test]
    public void LastErrorIsPerThreadAndClearedBySuccess()
    {
        delegate* unmanaged<nint, NativeFeatures*, NativeFeatures*, double*, NativeStatus> fid = &Exports.Fid;
        double value;
        Assert.That(fid(_context, null, null, &value), Is.EqualTo(NativeStatus.Argument));
        string otherThread = "unset";
        var thread = new Thread(() => otherThread = LastErrorText());
        thread.Start();
        thread.Join();
        Assert.That(otherThread, Is.Empty);
        Assert.That(LastErrorText(), Is.EqualTo("real is NULL"));

        var data = RandomMatrix(10, 12, 0f, "real").Data;
        fixed (float* d = data)
        {
            var good = Describe(d, 10, Dim, NativeDType.Float32);
            Assert.That(fid(_context, &good, &good, &value), Is.EqualTo(NativeStatus.Ok));
        }
        Assert.That(LastErrorText(), Is.Empty);
        Assert.That(value, Is.EqualTo(0).Within(1e-6), "FID of a set with itself");
    }

    private static NativeStatus Create(ReadOnlySpan<byte> nameWithoutNul, nint* context)
    {
        var name = new byte[nameWithoutNul.Length + 1];
        nameWithoutNul.CopyTo(name);
        delegate* unmanaged<byte*, nint*, NativeStatus> create = &Exports.CreateContext;
        fixed (byte* n = name) return create(n, context);
    }

    private static void ExpectError(NativeStatus status, NativeStatus expected, string messageStart)
    {
        Assert.That(status, Is.EqualTo(expected), LastErrorText());
        Assert.That(LastErrorText(), Does.StartWith(messageStart));
    }

    private static string LastErrorText()
    {
        delegate* unmanaged<byte*> lastError = &Exports.GetLastError;
        return Marshal.PtrToStringUTF8((nint)lastError()) ?? "<null>";
    }

    private static NativeFeatures Describe(void* data, long rows, long dim, NativeDType type) =>
        new() { Data = data, Rows = rows, Dim = dim, DType = (int)type };

    private static EvaluationResult Evaluate(FeatureMatrix real, FeatureMatrix fake, EvaluationOptions options)
    {
        using var backend = new CpuBackend();
        return Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake), options, backend);
    }

    private static FeatureMatrix RandomMatrix(int rows, int seed, float shift, string name)
    {
        var values = RandomDoubles(rows, seed, shift);
        return ToMatrix(values, rows, name);
    }

    private static FeatureMatrix ToMatrix(double[] values, int rows, string name) =>
        new(values.Select(v => (float)v).ToArray(), rows, Dim, name);

    private static double[] RandomDoubles(int rows, int seed, double shift)
    {
        var random = new System.Random(seed);
        var values = new double[rows * Dim];
        for (int i = 0; i < values.Length; i++) values[i] = random.NextDouble() * 2 - 1 + shift;
        return values;
    }

    private static (double[] Mean, double[] Covariance) MeanAndCovariance(double[] x, int rows)
    {
        var mean = new double[Dim];
        for (int r = 0; r < rows; r++) for (int j = 0; j < Dim; j++) mean[j] += x[r * Dim + j];
        for (int j = 0; j < Dim; j++) mean[j] /= rows;
        var covariance = new double[Dim * Dim];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < Dim; i++)
                for (int j = 0; j < Dim; j++)
                    covariance[i * Dim + j] += (x[r * Dim + i] - mean[i]) * (x[r * Dim + j] - mean[j]);
        for (int i = 0; i < covariance.Length; i++) covariance[i] /= rows - 1;
        return (mean, covariance);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Engine.sln not found above the test directory");
    }
}
