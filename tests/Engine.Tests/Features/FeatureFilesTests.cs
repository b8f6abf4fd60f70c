using GenMetrics.Features;

namespace GenMetrics.Tests.Features;

/// <summary>
/// Reads fixtures written by NumPy (Fixtures/features/make_fixtures.py). Feature values there follow
/// F[i, j] = i*10 + j*0.5 + 0.25, so asserting the formula proves the layout was decoded correctly.
/// </summary>
public class FeatureFilesTests
{
    static string Fixture(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "features", name);

    static double Formula(int i, int j) => i * 10 + j * 0.5 + 0.25;

    string tempDir = "";

    [SetUp]
    public void CreateTempDir() => tempDir = Directory.CreateTempSubdirectory("genmetrics-io-").FullName;

    [TearDown]
    public void DeleteTempDir() => Directory.Delete(tempDir, recursive: true);

    static void AssertFormula(FeatureMatrix m, int rows, int dim, double extra = 0)
    {
        Assert.That((m.Rows, m.Dim), Is.EqualTo((rows, dim)));
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < dim; j++)
                Assert.That(m[i, j], Is.EqualTo((float)(Formula(i, j) + extra)), $"[{i}, {j}]");
    }

    static double[] AllBlocks(IRowBlockSource source, int maxRows)
    {
        var all = new List<double>();
        int next = 0;
        foreach (var block in source.EnumerateBlocks(maxRows))
        {
            Assert.That(block.Start, Is.EqualTo(next));
            Assert.That(block.Count, Is.InRange(1, maxRows));
            all.AddRange(block.Data.Take(block.Count * block.Dim));
            next += block.Count;
        }
        Assert.That(next, Is.EqualTo(source.Rows));
        return [.. all];
    }

    [TestCase("f32_c.npy", 6, 4, "float32")]
    [TestCase("fortran.npy", 7, 5, "float32")]
    [TestCase("v2.npy", 3, 4, "float32")]
    [TestCase("v3.npy", 3, 4, "float32")]
    [TestCase("py2_header.npy", 3, 4, "float32")]
    [TestCase("savez.npz", 6, 4, "float32")]
    [TestCase("savez_compressed.npz", 6, 4, "float32")]
    public void NumpyWrittenFeaturesLoadWithTheirLayout(string file, int rows, int dim, string dtype)
    {
        var input = (FeatureFileInput)FeatureFiles.Open(Fixture(file));
        Assert.That((input.Rows, input.Dim, input.DType), Is.EqualTo((rows, dim, dtype)));
        AssertFormula(input.Load(), rows, dim);
        foreach (int maxRows in new[] { 1, 2, 4, 100 })
        {
            var values = AllBlocks(input, maxRows);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < dim; j++)
                    Assert.That(values[i * dim + j], Is.EqualTo(Formula(i, j)));
        }
    }

    [Test]
    public void Float64IsRoundedOnLoadButStreamedExactly()
    {
        var input = (FeatureFileInput)FeatureFiles.Open(Fixture("f64.npy"));
        Assert.That(input.DType, Is.EqualTo("float64"));
        AssertFormula(input.Load(), 5, 3, 0.1);
        var values = AllBlocks(input, 2);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 3; j++)
                Assert.That(values[i * 3 + j], Is.EqualTo(Formula(i, j) + 0.1));
    }

    [Test]
    public void NpzKeyChoosesAnArray()
    {
        var b = (FeatureFileInput)FeatureFiles.Open(Fixture("two_arrays.npz"), "b");
        Assert.That(b.Name, Does.EndWith("two_arrays.npz[b]"));
        AssertFormula(b.Load(), 2, 4);
    }

    [Test]
    public void StatisticsAsPytorchFidAndCleanFidWriteThem()
    {
        foreach (var file in new[] { "stats.npz", "stats_cleanfid.npz" })
        {
            var s = FeatureFiles.ReadStatistics(Fixture(file));
            Assert.That(s.Dim, Is.EqualTo(4));
            for (int i = 0; i < 4; i++)
            {
                Assert.That(s.Mean[i], Is.EqualTo(i * 0.5 + 0.25));
                for (int j = 0; j < 4; j++) Assert.That(s.Covariance[i * 4 + j], Is.EqualTo(1.0 / (1 + Math.Abs(i - j))));
            }
            Assert.That(FeatureFiles.Open(Fixture(file)), Is.TypeOf<StatisticsInput>().With.Property("Dim").EqualTo(4));
        }
    }

    [Test]
    public void ProgressEndsAtOne()
    {
        var reports = new List<double>();
        ((FeatureFileInput)FeatureFiles.Open(Fixture("f32_c.npy"))).Load(new SyncProgress(reports.Add));
        Assert.That(reports, Is.Not.Empty.And.Ordered);
        Assert.That(reports[^1], Is.EqualTo(1.0));
    }

    sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    [TestCase("missing.npy", "no such file")]
    [TestCase("int64.npy", "dtype '<i8' (int64) is not supported: features must be float32 or float64 (<f4, <f8)")]
    [TestCase("object.npy", "dtype '|O' (Python object) is not supported (object arrays need pickle, which is refused)")]
    [TestCase("empty.npy", "empty file (0 bytes)")]
    [TestCase("bigendian.npy", "dtype '>f4' (big-endian float32) is not supported")]
    [TestCase("structured.npy", "structured dtype is not supported")]
    [TestCase("onedim.npy", "shape (5,)")]
    [TestCase("threedim.npy", "shape (2, 3, 4)")]
    [TestCase("truncated.npy", "truncated")]
    [TestCase("truncated_member.npz", "truncated")]
    [TestCase("corrupt_header.npy", "corrupt .npy header")]
    [TestCase("not_npz.zip", "not an .npz")]
    [TestCase("neither.txt", "not a .npy or .npz file")]
    [TestCase("two_arrays.npz", "several 2-D arrays (a, b): choose one with --key")]
    [TestCase("no_matrix.npz", "labels (5,)")]
    [TestCase("stats_asymmetric.npz", "sigma is not symmetric: sigma[0, 2]")]
    [TestCase("stats_mismatch.npz", "sigma has shape (3, 3)")]
    public void BadFilesGiveInputExceptionNamingTheFile(string file, string problem)
    {
        var e = Assert.Throws<InputException>(() => FeatureFiles.Open(Fixture(file)));
        Assert.That(e!.Message, Does.StartWith(Fixture(file)).And.Contain(problem));
    }

    [TestCase("nan.npy", "row 2, column 1 is NaN (features must be finite)")]
    [TestCase("inf64.npy", "row 3, column 0 is Infinity (features must be finite)")]
    [TestCase("overflow64.npy", "row 0, column 0 is 1E+300, outside the float32 range")]
    public void NonFiniteValuesAreRefusedOnLoad(string file, string problem)
    {
        var input = (FeatureFileInput)FeatureFiles.Open(Fixture(file));
        var e = Assert.Throws<InputException>(() => input.Load());
        Assert.That(e!.Message, Does.StartWith(Fixture(file) + ": ").And.Contain(problem));
        if (file != "overflow64.npy")
        {
            e = Assert.Throws<InputException>(() => AllBlocks(input, 2));
            Assert.That(e!.Message, Does.StartWith(Fixture(file) + ": ").And.Contain(problem));
        }
    }

    [Test]
    public void CutZipAndAbsurdShapeAreInputErrors()
    {
        string cut = Path.Combine(tempDir, "cut.npz");
        var bytes = File.ReadAllBytes(Fixture("savez.npz"));
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InputException>(() => FeatureFiles.Open(cut));
        Assert.That(e!.Message, Does.StartWith(cut + ": not a readable zip archive (").And.Not.Contain("Central Directory"));

        // Random bytes behind a zip signature: plain words, not the runtime's "Central Directory corrupt."
        string bad = Path.Combine(tempDir, "bad.npz");
        var random = new byte[4096];
        new Random(3).NextBytes(random);
        "PK\x03\x04"u8.CopyTo(random);
        File.WriteAllBytes(bad, random);
        e = Assert.Throws<InputException>(() => FeatureFiles.Open(bad));
        Assert.That(e!.Message, Does.StartWith(bad + ": not a readable zip archive (").And.Not.Contain("Central Directory"));

        e = Assert.Throws<InputException>(() => NpyHeader.Parse("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", "huge.npy"));
        Assert.That(e!.Message, Does.StartWith("huge.npy: corrupt .npy header (shape too large)"));
    }

    [Test]
    public void MissingKeyListsTheAvailableOnes()
    {
        var e = Assert.Throws<InputException>(() => FeatureFiles.Open(Fixture("two_arrays.npz"), "feats"));
        Assert.That(e!.Message, Does.StartWith(Fixture("two_arrays.npz")).And.Contain("no array named 'feats' (available: a, b)"));
    }

    [Test]
    public void ReadStatisticsRefusesFeatures()
    {
        var e = Assert.Throws<InputException>(() => FeatureFiles.ReadStatistics(Fixture("f32_c.npy")));
        Assert.That(e!.Message, Does.StartWith(Fixture("f32_c.npy")).And.Contain("holds features [6, 4]"));
    }

    [TestCase("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", "<f4", false, new long[] { 3, 4 })]
    [TestCase("{'descr':'<f8','fortran_order':True,'shape':(2048,)}", "<f8", true, new long[] { 2048 })]
    [TestCase("  { 'shape' : ( ) , 'descr' : \"<f4\" , 'fortran_order' : False }  \n", "<f4", false, new long[0])]
    [TestCase("{'descr': '<f4', 'fortran_order': False, 'shape': (2048L, 7L), }", "<f4", false, new long[] { 2048, 7 })]
    public void HeaderDictLiteralsParse(string dict, string descr, bool fortran, long[] shape)
    {
        var h = NpyHeader.Parse(dict, "x.npy");
        Assert.That((h.Descr, h.FortranOrder, h.Shape), Is.EqualTo((descr, fortran, shape)));
    }

    [TestCase(new[] { 3, 4 }, "(3, 4)")]
    [TestCase(new[] { 5 }, "(5,)")]
    public void WrittenHeadersAreNumpysAndAligned(int[] shape, string shapeText)
    {
        var bytes = NpyHeader.Format("<f4", false, shape);
        string text = System.Text.Encoding.Latin1.GetString(bytes, 10, bytes.Length - 10);
        Assert.That(bytes.Length % 64, Is.Zero);
        Assert.That(BitConverter.ToUInt16(bytes, 8), Is.EqualTo(bytes.Length - 10));
        Assert.That(text, Does.StartWith($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shapeText}, }}   ").And.EndWith(" \n"));
    }

    [Test]
    public void Float32RoundTrip()
    {
        string path = Path.Combine(tempDir, "a.npy");
        var data = new float[7 * 3];
        for (int i = 0; i < data.Length; i++) data[i] = MathF.Sin(i) * 1e3f;
        FeatureFiles.WriteNpy(path, data, 7, 3);
        var m = ((FeatureFileInput)FeatureFiles.Open(path)).Load();
        Assert.That((m.Rows, m.Dim), Is.EqualTo((7, 3)));
        Assert.That(m.Data, Is.EqualTo(data));
        Assert.That(Directory.GetFiles(tempDir), Has.Length.EqualTo(1), "temp file left behind");
    }

    [Test]
    public void Float64RoundTripIsExactWhenStreamed()
    {
        string path = Path.Combine(tempDir, "b.npy");
        var data = new double[5 * 4];
        for (int i = 0; i < data.Length; i++) data[i] = Math.Sin(i) / 3;
        FeatureFiles.WriteNpy(path, data, 5, 4);
        var input = (FeatureFileInput)FeatureFiles.Open(path);
        Assert.That(input.DType, Is.EqualTo("float64"));
        Assert.That(AllBlocks(input, 3), Is.EqualTo(data));
    }

    [Test]
    public void StatisticsRoundTrip()
    {
        string path = Path.Combine(tempDir, "stats.npz");
        const int d = 5;
        var mu = Enumerable.Range(0, d).Select(i => Math.Cos(i) / 7).ToArray();
        var sigma = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) sigma[i * d + j] = Math.Exp(-Math.Abs(i - j)) / 3;
        FeatureFiles.WriteStatistics(path, new GaussianStatistics(mu, sigma));
        FeatureFiles.WriteStatistics(path, new GaussianStatistics(mu, sigma)); // overwrites
        var s = FeatureFiles.ReadStatistics(path);
        Assert.That(s.Mean, Is.EqualTo(mu));
        Assert.That(s.Covariance, Is.EqualTo(sigma));
        Assert.That(Directory.GetFiles(tempDir), Has.Length.EqualTo(1), "temp file left behind");
    }

    [Test]
    public void WrittenByOurWriterAndCheckedByNumpy()
    {
        // written by FeatureFiles.WriteNpy / WriteStatistics, then verified with np.load (see make_fixtures.py).
        var m = ((FeatureFileInput)FeatureFiles.Open(Fixture("ours_f32.npy"))).Load();
        AssertFormula(m, 3, 4);
        var s = FeatureFiles.ReadStatistics(Fixture("ours_stats.npz"));
        Assert.That(s.Mean, Is.EqualTo(new[] { 0.25, 0.75, 1.25 }));
    }

    [Test]
    public void FileReplacedAfterOpenIsDetected()
    {
        string path = Path.Combine(tempDir, "a.npy");
        FeatureFiles.WriteNpy(path, new float[6], 2, 3);
        var input = (FeatureFileInput)FeatureFiles.Open(path);
        FeatureFiles.WriteNpy(path, new float[6], 3, 2);
        var e = Assert.Throws<InputException>(() => input.Load());
        Assert.That(e!.Message, Is.EqualTo(path + ": file changed since it was opened"));
    }

    [Test]
    public void FailedWriteLeavesNothing()
    {
        string path = Path.Combine(tempDir, "no-such-dir", "a.npy");
        var e = Assert.Throws<InputException>(() => FeatureFiles.WriteNpy(path, new float[4], 2, 2));
        Assert.That(e!.Message, Does.Contain("a.npy"));
        Assert.That(Directory.GetFileSystemEntries(tempDir), Is.Empty);
        Assert.Throws<ArgumentException>(() => FeatureFiles.WriteNpy(Path.Combine(tempDir, "c.npy"), new float[4], 3, 2));
        Assert.That(Directory.GetFileSystemEntries(tempDir), Is.Empty);
    }
}
