using GenMetrics.Compute;
using GenMetrics.Compute.Gemm;

namespace GenMetrics.Tests.Compute;

public class SgemmTests
{
    private static readonly SgemmIsa[] Isas = [SgemmIsa.Scalar, SgemmIsa.Vector256, SgemmIsa.Vector512];

    // (m, n, k): 1x1x1, K = 1, sizes around MR (3, 4, 8), NR (32), KC (256) and MC (512) boundaries.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 33, 1), (9, 1, 5), (8, 32, 16), (7, 31, 17), (17, 65, 257), (3, 40, 513),
        (257, 35, 300), (40, 100, 7), (530, 33, 20),
    ];

    internal static float[] RandomMatrix(Random rng, int rows, int cols, float offset = 0f)
    {
        var data = new float[rows * cols];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) + offset;
        return data;
    }

    // float64 plain-loop reference of C = A·Bᵀ, and the bound Σ|a_k b_k| that float32 rounding scales with.
    private static void AssertMatchesReference(float[] a, float[] b, int m, int n, int k, float[] c, int ldc, string what)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double exact = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double prod = (double)a[i * k + p] * b[j * k + p];
                    exact += prod;
                    magnitude += Math.Abs(prod);
                }
                double err = Math.Abs(c[i * ldc + j] - exact);
                if (err > 1e-5 * magnitude + 1e-30)
                    Assert.Fail($"{what}: C[{i},{j}] = {c[i * ldc + j]}, reference {exact}, |err| {err} > 1e-5 * {magnitude}");
            }
    }

    [Test]
    public unsafe void WorkspaceMatchesFloat64ReferenceForEveryKernel()
    {
        var rng = new Random(7);
        int tested = 0;
        foreach (var isa in Isas)
        {
            if (!SgemmKernels.IsSupported(isa)) continue;
            tested++;
            var ws = new SgemmWorkspace(isa);
            foreach (var (m, n, k) in Shapes)
            {
                var a = RandomMatrix(rng, m, k);
                var b = RandomMatrix(rng, n, k);
                int ldc = n + 3;  // a C stride wider than n: nothing outside [m, n] may be touched
                var c = new float[m * ldc];
                Array.Fill(c, float.NaN);
                fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
                    ws.Multiply(pa, m, pb, n, k, null, pc, ldc);
                AssertMatchesReference(a, b, m, n, k, c, ldc, $"{isa} {m}x{n}x{k}");
                for (int i = 0; i < m; i++)
                    for (int j = n; j < ldc; j++)
                        Assert.That(c[i * ldc + j], Is.NaN, $"{isa} {m}x{n}x{k}: wrote outside C at [{i},{j}]");
            }
        }
        Assert.That(tested, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public void KernelsAgreeBitForBit()
    {
        // Every kernel runs the same per-element FMA chain, so results (and the exact-zero property) do not
        // depend on which one the machine picks.
        var rng = new Random(11);
        const int m = 37, n = 70, k = 600;
        var a = RandomMatrix(rng, m, k);
        var b = RandomMatrix(rng, n, k);
        float[]? first = null;
        foreach (var isa in Isas)
        {
            if (!SgemmKernels.IsSupported(isa)) continue;
            var c = Multiply(isa, a, m, b, n, k);
            if (first is null) first = c;
            else Assert.That(c, Is.EqualTo(first).AsCollection, $"{isa} differs from the first kernel");
        }
    }

    private static unsafe float[] Multiply(SgemmIsa isa, float[] a, int m, float[] b, int n, int k)
    {
        var c = new float[m * n];
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            new SgemmWorkspace(isa).Multiply(pa, m, pb, n, k, null, pc, n);
        return c;
    }

    [TestCase(1, 1, 1)]
    [TestCase(5, 3, 1)]
    [TestCase(300, 45, 70)]
    [TestCase(33, 600, 129)]
    [TestCase(520, 290, 260)]
    public void MultiplyTransposedMatchesFloat64Reference(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n + k);
        var a = RandomMatrix(rng, m, k);
        var b = RandomMatrix(rng, n, k);
        var c = new float[m * n];
        Array.Fill(c, float.NaN);
        new CpuBackend().MultiplyTransposed(a, m, b, n, k, c);
        AssertMatchesReference(a, b, m, n, k, c, n, $"MultiplyTransposed {m}x{n}x{k}");
    }
}
