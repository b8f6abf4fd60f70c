using GenMetrics.Compute;
using GenMetrics.Features;
using GenMetrics.Metrics;
using GenMetrics.Tests.Linalg;

namespace GenMetrics.Tests.Metrics;

public class FidTests
{
    private static readonly CpuBackend Backend = new();

    private static string Fixture(string name) =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "fid", name);

    private static float[] ReadFloats(string name)
    {
        var bytes = File.ReadAllBytes(Fixture(name));
        var r = new float[bytes.Length / 4];
        for (int i = 0; i < r.Length; i++) r[i] = BitConverter.ToSingle(bytes, 4 * i);
        return r;
    }

    private static double[] ReadDoubles(string name)
    {
        var bytes = File.ReadAllBytes(Fixture(name));
        var r = new double[bytes.Length / 8];
        for (int i = 0; i < r.Length; i++) r[i] = BitConverter.ToDouble(bytes, 8 * i);
        return r;
    }

    // pytorch-fid's value for the fixture (make_fixtures.py). scipy's sqrtm agrees with the float64 eigen
    // route to 1.2e-12 relative on these full-rank 64-d covariances (printed by the script); our sums and
    // the reference's are float64 over 300 rows, whose rounding moves FID by far less than 1e-8 relative.
    [Test]
    public void MatchesPytorchFidOnScipyFixture()
    {
        var header = File.ReadAllText(Fixture("fid.txt")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int rows = int.Parse(header[0]), dim = int.Parse(header[1]);
        double expected = double.Parse(header[2], System.Globalization.CultureInfo.InvariantCulture);
        var a = new FeatureMatrix(ReadFloats("features_a.bin"), rows, dim, "features_a.bin");
        var b = new FeatureMatrix(ReadFloats("features_b.bin"), rows, dim, "features_b.bin");
        var sa = Backend.ComputeStatistics(a, CovarianceDivisor.NMinusOne);
        var sb = Backend.ComputeStatistics(b, CovarianceDivisor.NMinusOne);
        Assert.That(Fid.FromStatistics(sa, sb, Backend), Is.EqualTo(expected).Within(1e-8 * expected));

        // np.cov and np.mean of the float64 copy: shifted accumulation keeps ~1e-15 relative to the scale.
        var cov = ReadDoubles("cov_a.bin");
        var mean = ReadDoubles("mean_a.bin");
        double scale = 0;
        for (int i = 0; i < dim; i++) scale = Math.Max(scale, cov[i * dim + i]);
        for (int i = 0; i < cov.Length; i++) Assert.That(sa.Covariance[i], Is.EqualTo(cov[i]).Within(1e-13 * scale));
        for (int i = 0; i < dim; i++) Assert.That(sa.Mean[i], Is.EqualTo(mean[i]).Within(1e-13 * Math.Abs(mean[i])));
    }

    [Test]
    public void FidMatchesReferenceFormula()
    {
        var rng = new Random(3);
        int dim = 12;
        var ca = ReferenceLinalg.RandomCovariance(rng, dim, 80);
        var cb = ReferenceLinalg.RandomCovariance(rng, dim, 80);
        var ma = Enumerable.Range(0, dim).Select(i => rng.NextDouble()).ToArray();
        var mb = Enumerable.Range(0, dim).Select(i => rng.NextDouble()).ToArray();
        double expected = 0;
        for (int i = 0; i < dim; i++) expected += (ma[i] - mb[i]) * (ma[i] - mb[i]) + ca[i * dim + i] + cb[i * dim + i];
        expected -= 2 * ReferenceLinalg.TraceSqrtProduct(ca, cb, dim);
        double actual = Fid.FromStatistics(new GaussianStatistics(ma, ca), new GaussianStatistics(mb, cb), Backend);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-9 * expected));
    }

    // FID of identical statistics is Tr Σ + Tr Σ − 2 Tr Σ: cancellation leaves rounding of size
    // ~D·eps·Tr Σ from the eigenvalue sums (√λ of eigenvalues of Σ² each carry ~eps·λmax error).
    [Test]
    public void IdenticalStatisticsGiveZero()
    {
        var rng = new Random(5);
        int dim = 40;
        var c = ReferenceLinalg.RandomCovariance(rng, dim, 200);
        var mean = Enumerable.Range(0, dim).Select(i => rng.NextDouble()).ToArray();
        var s = new GaussianStatistics(mean, c);
        var terms = Fid.Terms(s, s, Backend);
        Assert.That(terms.Value, Is.EqualTo(0).Within(dim * 1e-14 * terms.TraceA));
    }

    [Test]
    public void DimensionMismatchNamesBothSources()
    {
        var a = new GaussianStatistics(new double[2], new double[4], name: "real.npz");
        var b = new GaussianStatistics(new double[3], new double[9], name: "fake.npz");
        var ex = Assert.Throws<InputException>(() => Fid.FromStatistics(a, b, Backend));
        Assert.That(ex!.Message, Does.Contain("real.npz").And.Contain("fake.npz").And.Contain("2").And.Contain("3"));
    }

    [Test]
    public void FewerThanTwoRowsIsAnInputError()
    {
        var m = new FeatureMatrix([1f, 2f], 1, 2, "one.npy");
        var ex = Assert.Throws<InputException>(() => Backend.ComputeStatistics(m, CovarianceDivisor.NMinusOne));
        Assert.That(ex!.Message, Does.Contain("one.npy"));
    }

    [Test]
    public void NonFiniteFeatureIsAnInputError()
    {
        var m = new FeatureMatrix([1f, 2f, float.NaN, 4f], 2, 2, "bad.npy");
        var ex = Assert.Throws<InputException>(() => Backend.ComputeStatistics(m, CovarianceDivisor.NMinusOne));
        Assert.That(ex!.Message, Does.Contain("bad.npy").And.Contain("row 1"));
    }

    // Mean far from 0 relative to the spread is where the naive Σxxᵀ − NμμT formula loses digits.
    [TestCase(CovarianceDivisor.NMinusOne, 1.0)]
    [TestCase(CovarianceDivisor.N, 1.0)]
    [TestCase(CovarianceDivisor.NMinusOne, 1000.0)]
    public void StreamingWithBlocksThatDoNotDivideNMatchesTwoPassReference(CovarianceDivisor divisor, double offset)
    {
        var rng = new Random(11);
        int rows = 203, dim = 37;
        var data = new float[rows * dim];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(offset + ReferenceLinalg.Gaussian(rng) * (1 + i % dim * 0.1));
        var m = new FeatureMatrix(data, rows, dim, "x");
        var asDouble = data.Select(v => (double)v).ToArray();
        var (mean, cov) = ReferenceLinalg.MeanAndCovariance(asDouble, rows, dim, divisor == CovarianceDivisor.N ? rows : rows - 1);
        var all = CpuBackend.ComputeStatistics(m, divisor, rows, null);
        var streamed = CpuBackend.ComputeStatistics(m, divisor, 50, null);
        double scale = cov.Max();
        for (int i = 0; i < cov.Length; i++)
        {
            Assert.That(all.Covariance[i], Is.EqualTo(cov[i]).Within(1e-12 * scale));
            Assert.That(streamed.Covariance[i], Is.EqualTo(all.Covariance[i]).Within(1e-12 * scale));
        }
        for (int i = 0; i < dim; i++)
            Assert.That(streamed.Mean[i], Is.EqualTo(mean[i]).Within(1e-12 * Math.Abs(mean[i]) + 1e-14));
        Assert.That(streamed.Count, Is.EqualTo(rows));
    }
}
