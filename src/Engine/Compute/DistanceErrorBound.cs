namespace GenMetrics.Compute;

/// <summary>
/// A rigorous bound on the error of one squared distance computed as a Gram form of shifted rows,
/// d̃ = fl(‖â‖² + ‖b̂‖² − 2·â·b̂) clamped at 0 with â = fl(a − s), against the float64 value Σ(a − b)² of the
/// original rows: |d̃ − d| ≤ e(‖â‖²) + e(‖b̂‖²), with e(n) = c1·n + c2·√n + c3 from the stored (rounded) norm n
/// of each row. The bound splits into a per-row term so that a tile's check costs two additions per pair.
/// </summary>
/// <remarks>
/// Derivation (u = unit roundoff of the accumulation, u_in = relative rounding of the GEMM inputs, α the
/// absolute rounding of inputs that fall into float16's subnormal range, A = ‖â‖², B = ‖b̂‖²):
/// <list type="bullet">
/// <item>shift: |fl(a−s) − (a−s)| ≤ u|a−s| per component, so ‖x̂ − x‖ ≤ u(√A + √B) for x = a − b, and
/// |‖x̂‖² − ‖x‖²| ≤ ε(2(√A + √B) + ε) with ε that bound: about 4u(A + B). Input rounding (TF32, float16)
/// adds u_in(√A + √B) + 2√D·α to ε.</item>
/// <item>Gram form: norms and dot products each carry γ_n = n·u/(1 − n·u) relative to A, B and √(AB), n the
/// longest chain of roundings of the summation (D for any order, with or without FMA; less for a blocked sum); the sum and the difference add 3u(A + B). Together
/// (2γ_D + 3u)(A + B). The clamp at 0 does not increase the error (d ≥ 0).</item>
/// <item>the decision tests round d̃ ± e once more (at most 2u(A + B) of d̃).</item>
/// </list>
/// The coefficients below carry a safety factor of 1.25 over that sum (and the accumulation's u is taken as
/// 2⁻²³ for tensor-core GEMMs, whose accumulation need not round to nearest).
/// </remarks>
public sealed class DistanceErrorBound
{
    private const double Float32Roundoff = 1.0 / (1 << 24);
    private const double Safety = 1.25;

    private DistanceErrorBound(double c1, double c2, double c3)
    {
        C1 = c1;
        C2 = c2;
        C3 = c3;
    }

    /// <summary>Coefficient of the stored squared norm.</summary>
    public double C1 { get; }

    /// <summary>Coefficient of the square root of the stored squared norm (float16's subnormal inputs).</summary>
    public double C2 { get; }

    /// <summary>Constant term per row.</summary>
    public double C3 { get; }

    /// <summary>
    /// The bound for distance GEMMs of dimension <paramref name="dim"/> in <paramref name="precision"/>
    /// ("fp32", "tf32" or "fp16", as <see cref="IComputeBackend.DistancePrecision"/>).
    /// <paramref name="accumulationLength"/>: the longest chain of roundings one dot product (and norm) goes
    /// through, when the GEMM's summation order is known; γ then uses it instead of D. The CPU's blocked GEMM
    /// sums each K block of 256 sequentially and adds the blocks one after the other: 256 + D/256 − 1 roundings
    /// (16x tighter than D at D = 4096). Null (cuBLAS, order unknown): D.
    /// </summary>
    public static DistanceErrorBound For(string precision, int dim, int? accumulationLength = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        double u, uIn, alpha;
        switch (precision)
        {
            case "fp32":
                u = Float32Roundoff;
                uIn = 0;
                alpha = 0;
                break;
            case "tf32":
                // 10 explicit mantissa bits; hardware conversion may truncate rather than round: 2⁻¹⁰.
                u = 2 * Float32Roundoff;
                uIn = 1.0 / (1 << 10);
                alpha = 0;
                break;
            case "fp16":
                // Rounded to nearest on the device (prepare kernel); below 2⁻¹⁴ the spacing is 2⁻²⁴ (subnormals).
                u = 2 * Float32Roundoff;
                uIn = 1.0 / (1 << 11);
                alpha = 1.0 / (1 << 24);
                break;
            default:
                throw new ArgumentException($"unknown distance precision '{precision}'", nameof(precision));
        }
        int chain = Math.Clamp(accumulationLength ?? dim, 1, dim);
        double gamma = chain * u / (1 - chain * u);
        // Shifted inputs carry float32 rounding (u32) plus the GEMM input rounding (uIn); norms of the stored values.
        double inputRelative = Float32Roundoff + uIn;
        // ε = inputRelative(√A + √B) + 2√D·α; |Δ‖x‖²| ≤ ε(2(√A + √B) + ε) ≤ 2ε(√A + √B) + ε², with (√A + √B)² ≤ 2(A + B).
        // Relative part: 4·inputRelative(1 + inputRelative)(A + B); absolute part: 4√D·α(√A + √B) + 8D·α² (per row: half).
        double c1 = 4 * inputRelative * (1 + inputRelative) + 2 * gamma + 3 * u + 2 * Float32Roundoff;
        double c2 = 4 * Math.Sqrt(dim) * alpha * (1 + inputRelative);
        double c3 = 4 * dim * alpha * alpha;
        // The stored norm n may be below the true A by its own rounding (γ_D relative): scale up.
        double normSlack = 1 / (1 - gamma - 2 * uIn);
        return new DistanceErrorBound(Safety * c1 * normSlack, Safety * c2 * Math.Sqrt(normSlack), Safety * c3);
    }

    /// <summary>The rounding chain of the CPU backend's blocked SGEMM and norms for dimension <paramref name="dim"/>.</summary>
    public static int CpuAccumulationLength(int dim)
    {
        int kc = Gemm.SgemmWorkspace.KC;
        return Math.Min(dim, kc) + (dim + kc - 1) / kc - 1;
    }

    /// <summary>The per-row term e(n) for a stored squared norm n.</summary>
    public double RowTerm(double squaredNorm) => C1 * squaredNorm + C2 * Math.Sqrt(squaredNorm) + C3;

    /// <summary>e(n) for each stored squared norm.</summary>
    public double[] RowTerms(ReadOnlySpan<float> squaredNorms)
    {
        var e = new double[squaredNorms.Length];
        for (int i = 0; i < e.Length; i++) e[i] = RowTerm(squaredNorms[i]);
        return e;
    }

    /// <summary>
    /// The float32 number at or above <paramref name="value"/> (a float32 test against it errs on the safe side).
    /// </summary>
    public static float Up(double value)
    {
        float f = (float)value;
        return f < value ? MathF.BitIncrement(f) : f;
    }

    /// <summary>The float32 number at or below <paramref name="value"/>.</summary>
    public static float Down(double value)
    {
        float f = (float)value;
        return f > value ? MathF.BitDecrement(f) : f;
    }

    /// <summary>Σ(a − b)² in float64, one term after the other: the "plain float64" distance every exact decision uses.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static double ExactSquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int c = 0; c < a.Length; c++)
        {
            double t = (double)a[c] - b[c];
            s += t * t;
        }
        return s;
    }
}
