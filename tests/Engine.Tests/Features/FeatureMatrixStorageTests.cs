using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Metrics;
using GenMetrics.Tests.Metrics;

namespace GenMetrics.Tests.Features;

/// <summary>
/// FeatureMatrix beyond one managed array (issue 15 item 6): native storage with 64-bit offsets and
/// block-by-block walks. A >2^31-value matrix does not fit CI, so the limits are forced small here
/// (<see cref="StorageLimits"/>): native storage from a handful of values, spans of a few rows; every path
/// must then give what the plain float[] path gives, and the k-NN keys what float64 gives. The real
/// >2^31 run is recorded in perf/NOTES.md ("Sizes").
/// </summary>
[NonParallelizable]
public class FeatureMatrixStorageTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("gm-storage-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>Lowers the managed-array and span limits for a test; restores them on dispose.</summary>
    internal sealed class StorageLimits : IDisposable
    {
        private readonly long _managed = FeatureMatrix.ManagedLimit;
        private readonly int _span = FeatureMatrix.SpanLimit;

        public StorageLimits(long managedLimit, int spanLimit = int.MaxValue)
        {
            FeatureMatrix.ManagedLimit = managedLimit;
            FeatureMatrix.SpanLimit = spanLimit;
        }

        public void Dispose()
        {
            FeatureMatrix.ManagedLimit = _managed;
            FeatureMatrix.SpanLimit = _span;
        }
    }

    /// <summary>A natively stored copy of <paramref name="m"/> (row by row, so no span limit applies).</summary>
    internal static FeatureMatrix NativeCopy(FeatureMatrix m)
    {
        using var limits = new StorageLimits(0, FeatureMatrix.SpanLimit);
        var copy = FeatureMatrix.Allocate(m.Rows, m.Dim, m.Name);
        for (int i = 0; i < m.Rows; i++) m.Row(i).CopyTo(copy.WritableRowRange(i, 1));
        Assert.That(copy.IsNative || m.Count == 0, Is.True);
        return copy;
    }

    private static FeatureMatrix Random(int rows, int dim, int seed, string name = "x")
    {
        var random = new Random(seed);
        var data = new float[rows * dim];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 4 - 1);
        return new FeatureMatrix(data, rows, dim, name);
    }

    [Test]
    public void NativeStorageHoldsTheSameValuesAtEveryAccessor()
    {
        var managed = Random(37, 13, 1);
        using var native = NativeCopy(managed);
        Assert.That(native.IsNative, Is.True);
        Assert.That(managed.IsNative, Is.False);
        Assert.That(native.Count, Is.EqualTo(37L * 13));
        Assert.That(native.ToArray(), Is.EqualTo(managed.Data));
        for (int i = 0; i < managed.Rows; i++)
        {
            Assert.That(native.Row(i).ToArray(), Is.EqualTo(managed.Row(i).ToArray()), $"row {i}");
            Assert.That(native[i, 12], Is.EqualTo(managed.Data[i * 13 + 12]));
        }
        Assert.That(native.RowRange(5, 9).ToArray(), Is.EqualTo(managed.Data.AsSpan(5 * 13, 9 * 13).ToArray()));
        // The managed array is not there to hand out: the message says what to use instead.
        var e = Assert.Throws<InvalidOperationException>(() => _ = native.Data);
        Assert.That(e!.Message, Does.Contain("native memory").And.Contain("RowRange"));
        Assert.Throws<ArgumentOutOfRangeException>(() => native.Row(37));
        Assert.Throws<ArgumentOutOfRangeException>(() => native.Row(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = native[0, 13]);
        Assert.Throws<ArgumentOutOfRangeException>(() => native.RowRange(30, 8));
    }

    [Test]
    public void SpansHoldWholeRowsUpToTheLimit()
    {
        var m = Random(10, 7, 2);
        using var limits = new StorageLimits(FeatureMatrix.ManagedLimit, spanLimit: 3 * 7 + 6);
        Assert.That(m.RowsPerSpan, Is.EqualTo(3));
        Assert.That(m.RowRange(7, 3).Length, Is.EqualTo(21));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.RowRange(0, 4));
        // A row longer than the limit is still one span.
        using var tiny = new StorageLimits(FeatureMatrix.ManagedLimit, spanLimit: 5);
        Assert.That(m.RowsPerSpan, Is.EqualTo(1));
        Assert.That(m.RowRange(9, 1).Length, Is.EqualTo(7));
    }

    [Test]
    public void DisposeFreesNativeStorageOnceAndWithNameSharesIt()
    {
        var native = NativeCopy(Random(4, 3, 3));
        var renamed = native.WithName("renamed.npy");
        Assert.That(renamed.Name, Is.EqualTo("renamed.npy"));
        Assert.That(renamed.Row(3).ToArray(), Is.EqualTo(native.Row(3).ToArray()));
        native.Dispose();
        native.Dispose();
        Assert.Throws<ObjectDisposedException>(() => native.Row(0));
        Assert.Throws<ObjectDisposedException>(() => renamed.Row(0));
        // A managed matrix has nothing to free: it stays usable.
        var managed = Random(4, 3, 3);
        managed.Dispose();
        Assert.That(managed.Row(3).Length, Is.EqualTo(3));
    }

    [Test]
    public void UndisposedNativeMatricesAreFreedByTheFinaliser()
    {
        // Whatever earlier tests left undisposed is finalised first, so that only this test's blocks are counted.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = FeatureMatrix.LiveNativeBytes;
        // 64 x 4 MiB never disposed: the handles' finalisers must free every block.
        for (int i = 0; i < 64; i++) Allocate();
        for (int attempt = 0; attempt < 10 && FeatureMatrix.LiveNativeBytes > before; attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.That(FeatureMatrix.LiveNativeBytes, Is.EqualTo(before));

        using (new StorageLimits(0))
        {
            var m = FeatureMatrix.Allocate(10, 10, "disposed");
            Assert.That(FeatureMatrix.LiveNativeBytes, Is.EqualTo(before + 400));
            m.Dispose();
            Assert.That(FeatureMatrix.LiveNativeBytes, Is.EqualTo(before));
        }

        static void Allocate()
        {
            using var limits = new StorageLimits(0);
            var m = FeatureMatrix.Allocate(1024, 1024, "temporary");
            m.WritableRowRange(1023, 1)[1023] = 1;
        }
    }

    [Test]
    public void EnsureFiniteNamesTheFirstBadValueInNativeStorage()
    {
        const int dim = 1000, rows = 3100; // four chunks of 2^20 values
        var data = new float[rows * dim];
        data[3_050_123] = float.NaN;
        data[2_500_000] = float.PositiveInfinity;
        using var native = NativeCopy(new FeatureMatrix(data, rows, dim, "big.npy"));
        var e = Assert.Throws<InputException>(native.EnsureFinite);
        Assert.That(e!.Message, Does.Contain("big.npy: value at row 2500, column 0 is"));
        Assert.DoesNotThrow(NativeCopy(Random(100, 7, 4)).EnsureFinite);
    }

    [TestCase("<f4", false)]
    [TestCase("<f8", false)]
    [TestCase("<f4", true)]
    public void FilesBeyondTheManagedLimitLoadIntoNativeStorage(string descr, bool fortran)
    {
        const int rows = 23, dim = 9;
        var expected = Random(rows, dim, 5);
        string path = Path.Combine(_dir, "x.npy");
        WriteNpy(path, expected, descr, fortran);
        var plain = ((FeatureFileInput)FeatureFiles.Open(path)).Load();
        Assert.That(plain.IsNative, Is.False);
        Assert.That(plain.Data, Is.EqualTo(expected.Data));
        using (new StorageLimits(managedLimit: rows * dim - 1, spanLimit: 2 * dim))
        {
            using var native = ((FeatureFileInput)FeatureFiles.Open(path)).Load();
            Assert.That(native.IsNative, Is.True);
            Assert.That(native.ToArray(), Is.EqualTo(expected.Data));
        }
    }

    [Test]
    public void ANonFiniteValueInANativeLoadIsNamed()
    {
        var data = Random(20, 5, 6).Data;
        data[17 * 5 + 3] = float.NegativeInfinity;
        string path = Path.Combine(_dir, "bad.npy");
        FeatureFiles.WriteNpy(path, data, 20, 5);
        using var limits = new StorageLimits(0, spanLimit: 3 * 5);
        var e = Assert.Throws<InputException>(() => ((FeatureFileInput)FeatureFiles.Open(path)).Load());
        Assert.That(e!.Message, Does.Contain("bad.npy").And.Contain("row 17, column 3"));
    }

    [Test]
    public void WritingANativeMatrixBlockByBlockRoundTrips()
    {
        var expected = Random(31, 6, 7);
        using var native = NativeCopy(expected);
        string path = Path.Combine(_dir, "out.npy");
        using (new StorageLimits(FeatureMatrix.ManagedLimit, spanLimit: 4 * 6))
            GenerativeMetrics.SaveFeatures(native, path);
        var back = GenerativeMetrics.LoadFeatures(path);
        Assert.That(back.Rows, Is.EqualTo(31));
        Assert.That(back.Dim, Is.EqualTo(6));
        Assert.That(back.Data, Is.EqualTo(expected.Data));
        // Byte for byte what the span writer gives.
        string plain = Path.Combine(_dir, "plain.npy");
        FeatureFiles.WriteNpy(plain, expected.Data, 31, 6);
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(File.ReadAllBytes(plain)));
    }

    [Test]
    public void KnnMetricsOnNativeStorageEqualThePlainPathAndFloat64()
    {
        var (real, fake) = KnnTestSets.Continuous();
        using var cpu = new CpuBackend();
        var plain = KnnMetrics.Compute(real, fake, [3, 5], cpu, realism: true);
        using var nativeReal = NativeCopy(real);
        using var nativeFake = NativeCopy(fake);
        using var limits = new StorageLimits(0, spanLimit: 5 * real.Dim);
        // Exact against the float64 brute force ...
        var native = KnnMetricsExactTests.AssertExact(nativeReal, nativeFake, [3, 5], cpu,
            new KnnReference(real, fake, relativeTolerance: 0));
        // ... and identical, value for value, to the float[] path.
        for (int q = 0; q < 2; q++)
        {
            Assert.That(native.PerK[q].Precision, Is.EqualTo(plain.PerK[q].Precision));
            Assert.That(native.PerK[q].Recall, Is.EqualTo(plain.PerK[q].Recall));
            Assert.That(native.PerK[q].Density, Is.EqualTo(plain.PerK[q].Density));
            Assert.That(native.PerK[q].Coverage, Is.EqualTo(plain.PerK[q].Coverage));
        }
        Assert.That(native.Realism!.Scores, Is.EqualTo(plain.Realism!.Scores));
    }

    [Test]
    public void StatisticsAndMagnitudeChecksOnNativeStorageEqualThePlainPath()
    {
        var m = Random(300, 17, 8);
        using var native = NativeCopy(m);
        using var limits = new StorageLimits(0, spanLimit: 7 * 17);
        var expected = CpuBackend.ComputeStatistics(m, CovarianceDivisor.NMinusOne, 64, null);
        var actual = CpuBackend.ComputeStatistics(native, CovarianceDivisor.NMinusOne, 64, null);
        Assert.That(actual.Mean, Is.EqualTo(expected.Mean));
        Assert.That(actual.Covariance, Is.EqualTo(expected.Covariance));

        var huge = Random(40, 3, 9).Data;
        huge[31 * 3 + 2] = 3e37f;
        using var hugeNative = NativeCopy(new FeatureMatrix(huge, 40, 3, "huge.npy"));
        var e = Assert.Throws<InputException>(() => FeatureMagnitude.EnsureDistancesFit("precision/recall", hugeNative));
        Assert.That(e!.Message, Does.Contain("huge.npy").And.Contain("row 31, column 2 is 3E+37"));
    }

    [Test]
    public unsafe void CallerBuffersAreCopiedBlockByBlockIntoNativeStorage()
    {
        var expected = Random(19, 4, 10);
        var doubles = Array.ConvertAll(expected.Data, v => (double)v);
        using var limits = new StorageLimits(0, spanLimit: 3 * 4);
        fixed (float* f = expected.Data)
        fixed (double* d = doubles)
        {
            var single = new GenMetrics.Native.NativeFeatures { Data = f, Rows = 19, Dim = 4, DType = 0 };
            var wide = new GenMetrics.Native.NativeFeatures { Data = d, Rows = 19, Dim = 4, DType = 1 };
            using var a = GenMetrics.Native.CallerFeatures.ToMatrix(&single, "real");
            using var b = GenMetrics.Native.CallerFeatures.ToMatrix(&wide, "fake");
            Assert.That(a.IsNative && b.IsNative, Is.True);
            Assert.That(a.ToArray(), Is.EqualTo(expected.Data));
            Assert.That(b.ToArray(), Is.EqualTo(expected.Data));
        }
    }

    /// <summary>An .npy of <paramref name="m"/> in float32 or float64, C or Fortran order (numpy's header layout).</summary>
    private static void WriteNpy(string path, FeatureMatrix m, string descr, bool fortran)
    {
        using var stream = File.Create(path);
        stream.Write(NpyHeader.Format(descr, fortran, [m.Rows, m.Dim]));
        using var writer = new BinaryWriter(stream);
        for (long k = 0; k < m.Count; k++)
        {
            long flat = fortran ? k % m.Rows * m.Dim + k / m.Rows : k;
            float v = m[(int)(flat / m.Dim), (int)(flat % m.Dim)];
            if (descr == "<f8") writer.Write((double)v);
            else writer.Write(v);
        }
    }
}
