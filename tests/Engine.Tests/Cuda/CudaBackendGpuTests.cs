using GenMetrics.Compute;
using GenMetrics.Cuda;
using GenMetrics.Features;
using GenMetrics.Evaluation;
using GenMetrics.Verification;

namespace GenMetrics.Tests.Cuda;

/// <summary>
/// CudaBackend against float64 plain-loop references and against CpuBackend. Ignored (with the reason) when
/// no usable CUDA device is present, which is the case on every machine these were written on: they have
/// been compiled, never run.
/// </summary>
[Category("Gpu")]
public class CudaBackendGpuTests : CudaDeviceTests
{
    private static FeatureMatrix Random(int rows, int dim, int seed, float offset = 0)
    {
        var r = new Random(seed);
        var data = new float[rows * dim];
        for (int i = 0; i < data.Length; i++) data[i] = offset + (float)(r.NextDouble() * 2 - 1);
        return new FeatureMatrix(data, rows, dim);
    }

    private static double Distance(FeatureMatrix a, int i, FeatureMatrix b, int j)
    {
        double s = 0;
        for (int c = 0; c < a.Dim; c++)
        {
            double t = (double)a[i, c] - b[j, c];
            s += t * t;
        }
        return s;
    }

    [Test]
    public void KnnRadiiMatchFloat64SortAcrossSeveralTiles()
    {
        var cuda = Cuda();
        var x = Random(613, 24, 1, offset: 10);
        cuda.TileSize = 256;
        var radii = cuda.KnnRadiiSquared(x, [1, 3, 7]);
        for (int i = 0; i < x.Rows; i++)
        {
            var d = Enumerable.Range(0, x.Rows).Select(j => Distance(x, i, x, j)).Order().ToArray();
            Assert.That(radii[0][i], Is.EqualTo(d[1]).Within(1e-4).Percent.Or.EqualTo(d[1]).Within(1e-4), $"row {i}, k=1");
            Assert.That(radii[1][i], Is.EqualTo(d[3]).Within(1e-4).Percent.Or.EqualTo(d[3]).Within(1e-4), $"row {i}, k=3");
            Assert.That(radii[2][i], Is.EqualTo(d[7]).Within(1e-4).Percent.Or.EqualTo(d[7]).Within(1e-4), $"row {i}, k=7");
        }
    }

    /// <summary>
    /// Tiles of 1536 rows: the column half of each off-diagonal tile runs in 3 row slices of 512 (one partial
    /// for the last, shorter tile row), merged afterwards; k = 30 keeps lists of 31.
    /// </summary>
    [Test]
    public void KnnRadiiMatchFloat64WhenColumnsAreMergedFromSlices()
    {
        var cuda = Cuda();
        var x = Random(3500, 6, 2, offset: 3);
        int before = cuda.TileSize;
        KnnRadii radii;
        try
        {
            cuda.TileSize = 1536;
            radii = cuda.KnnRadiiSquared(x, [1, 30]);
        }
        finally
        {
            cuda.TileSize = before;
        }
        using var cpu = new CpuBackend();
        var expected = cpu.KnnRadiiSquared(x, [1, 30]);
        // k = 30 is above the device's 32 candidates less headroom: that k list goes to the CPU; both exact.
        for (int q = 0; q < 2; q++)
            Assert.That(radii[q], Is.EqualTo(expected[q]), $"k index {q}");
    }

    [Test]
    public void NearestDistancesAndIndicesMatchFloat64()
    {
        var cuda = Cuda();
        var fake = Random(301, 16, 2);
        var real = Random(517, 16, 3);
        cuda.TileSize = 256;
        var request = new CrossRequest
        {
            RealRadiiSquared = [Enumerable.Repeat(1.0, real.Rows).ToArray()],
            FakeRadiiSquared = [Enumerable.Repeat(1.0, fake.Rows).ToArray()],
        };
        var r = cuda.ReduceCrossDistances(fake, real, request);
        for (int g = 0; g < fake.Rows; g++)
        {
            var d = Enumerable.Range(0, real.Rows).Select(j => Distance(fake, g, real, j)).ToArray();
            double min = d.Min();
            Assert.That(r.FakeNearestRealDistanceSquared[g], Is.EqualTo(min).Within(1e-3).Percent, $"fake {g}");
            Assert.That(d[r.FakeNearestRealIndex[g]], Is.EqualTo(min).Within(1e-3).Percent, $"fake {g} argmin");
        }
        Assert.That(r.Realism, Is.Null);
    }

    [Test]
    public void MultiplyTransposedMatchesFloat64()
    {
        var cuda = Cuda();
        var a = Random(37, 19, 4);
        var b = Random(53, 19, 5);
        var c = new float[37 * 53];
        cuda.MultiplyTransposed(a.Data, 37, b.Data, 53, 19, c);
        for (int i = 0; i < 37; i++)
            for (int j = 0; j < 53; j++)
            {
                double e = 0;
                for (int k = 0; k < 19; k++) e += (double)a[i, k] * b[j, k];
                Assert.That(c[i * 53 + j], Is.EqualTo(e).Within(1e-5), $"({i}, {j})");
            }
    }

    [Test]
    public void StatisticsMatchFloat64TwoPass()
    {
        var cuda = Cuda();
        var x = Random(1001, 7, 6, offset: 100);
        var stats = cuda.ComputeStatistics(x, CovarianceDivisor.NMinusOne);
        var mean = new double[7];
        for (int i = 0; i < x.Rows; i++)
            for (int c = 0; c < 7; c++) mean[c] += x[i, c];
        for (int c = 0; c < 7; c++) mean[c] /= x.Rows;
        for (int p = 0; p < 7; p++)
        {
            Assert.That(stats.Mean[p], Is.EqualTo(mean[p]).Within(1e-12).Percent);
            for (int q = 0; q < 7; q++)
            {
                double s = 0;
                for (int i = 0; i < x.Rows; i++) s += (x[i, p] - mean[p]) * (x[i, q] - mean[q]);
                Assert.That(stats.Covariance[p * 7 + q], Is.EqualTo(s / (x.Rows - 1)).Within(1e-9), $"({p}, {q})");
            }
        }
    }

    [Test]
    public void TraceSqrtOfDiagonalProductIsSumOfRoots()
    {
        var cuda = Cuda();
        const int dim = 6;
        var a = new double[dim * dim];
        var b = new double[dim * dim];
        double expected = 0;
        for (int i = 0; i < dim; i++)
        {
            a[i * dim + i] = i + 1;
            b[i * dim + i] = 2.0 / (i + 3);
            expected += Math.Sqrt((i + 1) * 2.0 / (i + 3));
        }
        Assert.That(cuda.TraceSqrtProduct(a, b, dim), Is.EqualTo(expected).Within(1e-9).Percent);
    }

    /// <summary>Q·diag(spectrum)·Qᵀ with Q a random orthogonal matrix (Gram–Schmidt of Gaussian columns), row-major.</summary>
    private static double[] SymmetricWithSpectrum(double[] spectrum, int seed)
    {
        int n = spectrum.Length;
        var r = new Random(seed);
        var q = new double[n * n];
        for (int i = 0; i < q.Length; i++) q[i] = r.NextDouble() * 2 - 1;
        for (int j = 0; j < n; j++)
        {
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < j; k++)
                {
                    double dot = 0;
                    for (int i = 0; i < n; i++) dot += q[i * n + j] * q[i * n + k];
                    for (int i = 0; i < n; i++) q[i * n + j] -= dot * q[i * n + k];
                }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += q[i * n + j] * q[i * n + j];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < n; i++) q[i * n + j] /= norm;
        }
        var m = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double v = 0;
                for (int k = 0; k < n; k++) v += q[i * n + k] * spectrum[k] * q[j * n + k];
                m[i * n + j] = v;
                m[j * n + i] = v;
            }
        return m;
    }

    [Test]
    public void SquareRootOfWellConditionedStatisticsConvergesOnTheDevice()
    {
        var cuda = Cuda();
        using var cpu = new CpuBackend();
        var a = cuda.ComputeStatistics(Random(400, 48, seed: 71), CovarianceDivisor.NMinusOne);
        var b = cuda.ComputeStatistics(Random(400, 48, seed: 72, offset: 0.5f), CovarianceDivisor.NMinusOne);
        double expected = cpu.TraceSqrtProduct(a.Covariance, b.Covariance, 48);
        double actual = cuda.TraceSqrtProduct(a.Covariance, b.Covariance, 48);
        Assert.That(cuda.LastSqrt!.Route, Is.EqualTo("newton-schulz"), cuda.LastSqrt.ToString());
        Assert.That(cuda.LastSqrt.Iterations, Is.LessThan(30), cuda.LastSqrt.ToString());
        Assert.That(Math.Abs(actual - expected) / expected, Is.LessThan(1e-9), cuda.LastSqrt.ToString());
    }

    /// <summary>
    /// cond(Σa·Σb) ≈ 1e14: the residual cannot reach a fixed tolerance in float64. The answer must still agree
    /// with the CPU to 1e-9, from the device (Newton–Schulz stopping at its floor, or the cuSOLVER route), not the CPU.
    /// </summary>
    [Test]
    public void SquareRootOfIllConditionedStatisticsStaysOnTheDevice()
    {
        var cuda = Cuda();
        using var cpu = new CpuBackend();
        const int n = 40;
        var spectrumA = Enumerable.Range(0, n).Select(i => Math.Pow(1e-7, (double)i / (n - 1))).ToArray();
        var spectrumB = Enumerable.Range(0, n).Select(i => 2 * Math.Pow(1e-7, (double)(n - 1 - i) / (n - 1))).ToArray();
        var a = SymmetricWithSpectrum(spectrumA, 81);
        var b = SymmetricWithSpectrum(spectrumB, 82);
        double expected = cpu.TraceSqrtProduct(a, b, n);
        double actual = cuda.TraceSqrtProduct(a, b, n);
        Assert.That(cuda.LastSqrt!.Route, Is.Not.EqualTo("cpu"), cuda.LastSqrt.ToString());
        TestContext.Out.WriteLine(cuda.LastSqrt.ToString());
        Assert.That(Math.Abs(actual - expected) / expected, Is.LessThan(1e-9), cuda.LastSqrt.ToString());
    }

    /// <summary>
    /// N &lt; D: both covariances have rank ≤ N − 1 (exactly singular); Newton–Schulz must give up early and the GPU
    /// eigen route answer. Tolerance: the zero eigenvalues come out of any float64 route as ±ε‖Σ‖ with
    /// ε ≈ D·2⁻⁵², and the roots of the positive ones, √ε‖Σ‖^½ ≈ 1e-7 relative each, enter the CPU's and the
    /// GPU's sums differently, so two correct routes agree to about (D − rank)·√ε ≈ 1e-6 here, not 1e-9.
    /// </summary>
    [Test]
    public void SquareRootOfSingularStatisticsUsesTheDeviceEigenRoute()
    {
        var cuda = Cuda();
        using var cpu = new CpuBackend();
        var a = cuda.ComputeStatistics(Random(20, 64, seed: 91), CovarianceDivisor.NMinusOne);
        var b = cuda.ComputeStatistics(Random(30, 64, seed: 92), CovarianceDivisor.NMinusOne);
        double expected = cpu.TraceSqrtProduct(a.Covariance, b.Covariance, 64);
        double actual = cuda.TraceSqrtProduct(a.Covariance, b.Covariance, 64);
        Assert.That(cuda.LastSqrt!.Route, Is.EqualTo("cusolver-eigen"), cuda.LastSqrt.ToString());
        Assert.That(cuda.LastSqrt.Iterations, Is.LessThan(30), "divergence must be seen early: " + cuda.LastSqrt);
        Assert.That(Math.Abs(actual - expected) / expected, Is.LessThan(1e-6), cuda.LastSqrt.ToString());
    }

    [Test]
    public void VerifierFindsNoDifferenceBeyondTolerance()
    {
        var cuda = Cuda();
        using var cpu = new CpuBackend();
        var lines = new BackendVerifier(cpu, cuda, seed: 7).Run();
        var failed = lines.Where(l => !l.Passed).Select(l => $"{l.Case} | {l.Method} | {l.Quantity}: {l.Difference} > {l.Tolerance} {l.Note}").ToArray();
        Assert.That(failed, Is.Empty);
    }

    [Test]
    public void EvaluatorAgreesWithTheCpuForEveryMetricGroup()
    {
        var cuda = Cuda();
        using var cpu = new CpuBackend();
        var real = Random(420, 24, seed: 31, offset: 3);
        var fake = Random(380, 24, seed: 32, offset: 3.2f);
        var options = new EvaluationOptions { KidSubsets = 20, KidSubsetSize = 200 };
        var onCpu = Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake), options, cpu);
        var onGpu = Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake), options, cuda);
        Assert.That(onGpu.Values.Select(v => v.Key), Is.EqualTo(onCpu.Values.Select(v => v.Key)));
        // FID: float64 statistics and square root on both; KID: float32 GEMMs summed in different orders.
        Assert.That(onGpu["fid"], Is.EqualTo(onCpu["fid"]).Within(1e-9 * Math.Abs(onCpu["fid"])));
        Assert.That(onGpu["kid_mean"], Is.EqualTo(onCpu["kid_mean"]).Within(1e-4 * Math.Abs(onCpu["kid_mean"]) + 1e-7));
        // Every k-NN decision is exact on both backends (float64 refinement): equal metrics.
        foreach (var key in new[] { "precision", "recall", "density", "coverage", "sym_precision", "sym_recall", "comp_precision" })
            Assert.That(onGpu[key], Is.EqualTo(onCpu[key]), key);
        Assert.That(onGpu.DistancePrecision, Is.Null);
    }

    [Test]
    public void Tf32DecisionsEqualItsFp32TwinsWithTheOptInCheck()
    {
        var cuda = Cuda();
        using var tf32 = CudaBackend.Create(CudaPrecision.Tf32, cuda.Device.Ordinal);
        var real = Random(300, 32, seed: 41, offset: 5);
        var fake = Random(260, 32, seed: 42, offset: 5.1f);
        var options = new EvaluationOptions { Groups = [MetricGroup.Pr, MetricGroup.Prdc], Ks = [3, 5], CompareWithFp32 = true };
        var result = Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake), options, tf32);
        var fp32 = Evaluator.Evaluate(MetricInput.FromFeatures(real), MetricInput.FromFeatures(fake), options, cuda);
        Assert.That(result.DistancePrecision, Is.EqualTo("tf32"));
        Assert.That(result["membership_decisions"], Is.EqualTo(3 * (300 + 260) * 2));
        Assert.That(result["membership_changed"], Is.Zero);
        foreach (var key in new[] { "precision_k3", "recall_k3", "density_k3", "coverage_k3", "precision_k5", "density_k5" })
            Assert.That(result[key], Is.EqualTo(fp32[key]), key);
        // tf32's coarser inputs leave more margins inside the bound: it refines at least as many as fp32.
        Assert.That(result["refined_decisions"], Is.GreaterThanOrEqualTo(fp32["refined_decisions"]));
        Assert.That(result.Notes, Has.Some.Contains("membership decisions"));
    }

    /// <summary>float64 rows streamed in blocks through one reused buffer, as a float64 .npy file is read.</summary>
    private sealed class Float64Stream(double[] data, int rows, int dim) : IRowBlockSource
    {
        public int Rows => rows;
        public int Dim => dim;
        public string Name => "stream.npy";

        public IEnumerable<RowBlock> EnumerateBlocks(int maxRows)
        {
            var buffer = new double[Math.Min(maxRows, rows) * dim];
            for (int start = 0; start < rows; start += maxRows)
            {
                int count = Math.Min(maxRows, rows - start);
                Array.Copy(data, (long)start * dim, buffer, 0, (long)count * dim);
                yield return new RowBlock(buffer, start, count, dim);
            }
        }
    }

    [Test]
    public void StatisticsOfAStreamedFloat64SourceMatchTheCpu()
    {
        var cuda = Cuda();
        using var cpu = new CpuBackend();
        // 20000 rows of 5: several of the backend's blocks (8192 rows), values far from 0 with a float64 tail.
        const int rows = 20000, dim = 5;
        var r = new Random(51);
        var data = new double[rows * dim];
        for (int i = 0; i < data.Length; i++) data[i] = 1000 + r.NextDouble() + 1e-9 * r.NextDouble();
        var source = new Float64Stream(data, rows, dim);
        var a = cpu.ComputeStatistics(source, CovarianceDivisor.NMinusOne);
        var b = cuda.ComputeStatistics(source, CovarianceDivisor.NMinusOne);
        Assert.That(BackendVerifier.MaxScaledDifference(a.Mean, b.Mean), Is.LessThan(1e-12));
        Assert.That(BackendVerifier.MaxScaledDifference(a.Covariance, b.Covariance), Is.LessThan(1e-9));
    }

    [Test]
    public void StatisticsNameTheFirstNonFiniteValue()
    {
        var cuda = Cuda();
        const int rows = 9000, dim = 3;
        var data = new double[rows * dim];
        for (int i = 0; i < data.Length; i++) data[i] = i % 7;
        data[8500 * dim + 2] = double.PositiveInfinity;   // in the second block
        data[8700 * dim + 0] = double.NaN;                 // a later one
        var e = Assert.Throws<InputException>(() => cuda.ComputeStatistics(new Float64Stream(data, rows, dim), CovarianceDivisor.N));
        Assert.That(e!.Message, Does.Contain("stream.npy: value at row 8500, column 2 is NaN or infinite"));

        var floats = Array.ConvertAll(data, v => (float)v);
        var m = new FeatureMatrix(floats, rows, dim, "features.npy");
        e = Assert.Throws<InputException>(() => cuda.ComputeStatistics(m, CovarianceDivisor.N));
        Assert.That(e!.Message, Does.Contain("features.npy: value at row 8500, column 2 is NaN or infinite"));
    }

    /// <summary>
    /// Out of device memory, the tile shrinks and the call restarts. Needs a device small enough for a
    /// 2000 x 2000 float tile (16 MB) not to fit: the emulator run with GM_CUDA_EMU_MEMORY_BYTES=12000000
    /// (tests/cuda-emulator/run.sh); ignored on a real GPU.
    /// </summary>
    [Test]
    public void OutOfMemoryShrinksTheTileAndStillAnswers()
    {
        var cuda = Cuda();
        if (cuda.Device.TotalMemoryBytes >= 64L << 20)
            Assert.Ignore($"needs a device with less than 64 MiB ({cuda.Device.TotalMemoryBytes >> 20} MiB here); the emulator's GM_CUDA_EMU_MEMORY_BYTES provides one");
        using var cpu = new CpuBackend();
        var x = Random(2000, 8, seed: 61);
        int before = cuda.TileSize;
        try
        {
            cuda.TileSize = 8192;
            var expected = cpu.KnnRadiiSquared(x, [3]);
            var actual = cuda.KnnRadiiSquared(x, [3]);
            Assert.That(cuda.TileSize, Is.LessThan(2000), "the tile must have shrunk below N");
            Assert.That(actual[0], Is.EqualTo(expected[0]), "exact radii on both backends");
        }
        finally
        {
            cuda.TileSize = before;
        }
    }
}

