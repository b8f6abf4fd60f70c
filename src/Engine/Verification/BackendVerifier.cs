using GenMetrics.Compute;
using GenMetrics.Cuda;
using GenMetrics.Features;

namespace GenMetrics.Verification;

/// <summary>One compared quantity: the largest difference found and the tolerance it must not exceed.</summary>
public sealed record VerificationLine(string Case, string Method, string Quantity, double Difference, double Tolerance, string? Note = null)
{
    public bool Passed => Difference <= Tolerance;
}

/// <summary>
/// Runs every <see cref="IComputeBackend"/> method on a reference backend (the CPU) and a candidate (CUDA) with
/// fresh random data of awkward shapes and reports the largest differences. Membership counts must agree
/// exactly except where a float64 recomputation shows the distance within a rounding margin of the radius
/// (a "near-tie": float32 GEMMs in different orders may legitimately fall on either side).
/// </summary>
public sealed class BackendVerifier(IComputeBackend reference, IComputeBackend candidate, int seed = 1)
{
    /// <summary>Relative tolerance on float32 squared distances and radii for the candidate's precision.</summary>
    public static double DistanceTolerance(IComputeBackend candidate) => candidate.DistancePrecision switch
    {
        "tf32" => 1e-2,
        "fp16" => 3e-2,
        _ => 1e-4,
    };

    /// <summary>
    /// Unit roundoff of the distance GEMM's inputs: 0 for float32 (the values are multiplied as stored),
    /// 2⁻¹¹ for TF32 and float16 (10 stored mantissa bits, round to nearest).
    /// </summary>
    public static double InputRounding(IComputeBackend candidate) =>
        candidate.DistancePrecision == "fp32" ? 0 : Math.Pow(2, -11);

    /// <summary>
    /// How far two correct backends' squared distances may differ in absolute terms, whatever the distance:
    /// the Gram form ‖a‖² + ‖b‖² − 2a·b loses what its terms' rounding loses, about (2u_in + (D + 2)·2⁻²⁴)
    /// times ‖a‖² + ‖b‖² (≈ 2·<paramref name="scale"/>), for each backend; times 4 for rows whose norms are
    /// above the average. A true 0 (a duplicate) comes out as anything up to this on a GPU whose GEMM sums in
    /// another order than its norms, and a TF32 distance between nearby points is off by this much.
    /// </summary>
    public static double AbsoluteDistanceAllowance(IComputeBackend candidate, int dim, double scale) =>
        4 * 2 * scale * (2 * InputRounding(candidate) + 2 * (dim + 2) * Math.Pow(2, -24));

    public const double StatisticsTolerance = 1e-9;
    public const double TraceSqrtTolerance = 1e-9;

    private static readonly int[] Ks = [1, 3, 5];

    public IReadOnlyList<VerificationLine> Run(Action<string>? log = null)
    {
        var lines = new List<VerificationLine>();
        int? savedTile = null;
        if (candidate is CudaBackend cuda)
        {
            // A small tile makes N span several tiles, none of them full: the edge handling is what is tested.
            savedTile = cuda.TileSize;
            cuda.TileSize = 256;
        }
        try
        {
            var random = new Random(seed);
            RunCase("unequal N, N not a multiple of the tile", Gaussian(random, 300, 48, 3f, "fake"), Gaussian(random, 517, 48, 0f, "real"), lines, log);
            RunCase("D = 1", Gaussian(random, 200, 1, 0.5f, "fake"), Gaussian(random, 150, 1, 0f, "real"), lines, log);
            var (fakeDup, realDup) = Duplicates(random, 180, 260, 16);
            RunCase("duplicated rows", fakeDup, realDup, lines, log);
        }
        finally
        {
            if (savedTile is int t && candidate is CudaBackend c) c.TileSize = t;
        }
        return lines;
    }

    private void RunCase(string name, FeatureMatrix fake, FeatureMatrix real, List<VerificationLine> lines, Action<string>? log)
    {
        log?.Invoke($"case {name}: fake [{fake.Rows}, {fake.Dim}], real [{real.Rows}, {real.Dim}]");
        double distanceTol = DistanceTolerance(candidate);
        double scale = MeanSquaredNormAbout(real, fake);
        double allowance = AbsoluteDistanceAllowance(candidate, fake.Dim, scale);

        KnnRadii? realRadii = null, fakeRadii = null;
        Guard(name, "KnnRadiiSquared", lines, () =>
        {
            realRadii = reference.KnnRadiiSquared(real, Ks);
            fakeRadii = reference.KnnRadiiSquared(fake, Ks);
            var realC = candidate.KnnRadiiSquared(real, Ks);
            var fakeC = candidate.KnnRadiiSquared(fake, Ks);
            // Both backends return the float64 radii (their GEMMs only choose the candidates): equal, bit for bit.
            int differing = 0;
            for (int k = 0; k < Ks.Length; k++)
            {
                differing += realRadii[k].Where((r, i) => r != realC[k][i]).Count();
                differing += fakeRadii[k].Where((r, i) => r != fakeC[k][i]).Count();
            }
            lines.Add(new VerificationLine(name, "KnnRadiiSquared", "radii differing from the reference (exact float64)", differing, 0,
                $"{realC.Refinement.Decisions + fakeC.Refinement.Decisions} radii refined"));
        });

        if (realRadii is not null && fakeRadii is not null)
        {
            var request = new CrossRequest
            {
                RealRadiiSquared = realRadii,
                FakeRadiiSquared = fakeRadii,
                RealismRadiiSquared = realRadii[^1],
            };
            Guard(name, "ReduceCrossDistances", lines, () =>
                CompareCross(name, fake, real, request, reference.ReduceCrossDistances(fake, real, request),
                    candidate.ReduceCrossDistances(fake, real, request), distanceTol, allowance, lines));
        }

        GaussianStatistics? fakeStats = null, realStats = null;
        Guard(name, "ComputeStatistics", lines, () =>
        {
            foreach (var divisor in new[] { CovarianceDivisor.NMinusOne, CovarianceDivisor.N })
            {
                var a = reference.ComputeStatistics(real, divisor);
                var b = candidate.ComputeStatistics(real, divisor);
                lines.Add(new VerificationLine(name, "ComputeStatistics", $"mean, relative to max |mean| ({divisor})", MaxScaledDifference(a.Mean, b.Mean), StatisticsTolerance));
                lines.Add(new VerificationLine(name, "ComputeStatistics", $"covariance, relative to max |cov| ({divisor})", MaxScaledDifference(a.Covariance, b.Covariance), StatisticsTolerance));
                if (divisor == CovarianceDivisor.NMinusOne) realStats = a;
            }
            fakeStats = reference.ComputeStatistics(fake, CovarianceDivisor.NMinusOne);
        });

        if (fakeStats is not null && realStats is not null)
        {
            Guard(name, "TraceSqrtProduct", lines, () =>
            {
                double a = reference.TraceSqrtProduct(fakeStats.Covariance, realStats.Covariance, fake.Dim);
                double b = candidate.TraceSqrtProduct(fakeStats.Covariance, realStats.Covariance, fake.Dim);
                double diff = Math.Abs(a - b) / Math.Max(Math.Abs(a), double.Epsilon);
                lines.Add(new VerificationLine(name, "TraceSqrtProduct", "relative", diff, TraceSqrtTolerance, $"cpu {a:R}, candidate {b:R}"));
            });
        }

        Guard(name, "MultiplyTransposed", lines, () =>
        {
            var ca = new float[fake.Rows * real.Rows];
            var cb = new float[fake.Rows * real.Rows];
            reference.MultiplyTransposed(fake.Data, fake.Rows, real.Data, real.Rows, fake.Dim, ca);
            candidate.MultiplyTransposed(fake.Data, fake.Rows, real.Data, real.Rows, fake.Dim, cb);
            double maxAbs = 0, maxDiff = 0;
            for (int i = 0; i < ca.Length; i++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(ca[i]));
                maxDiff = Math.Max(maxDiff, Math.Abs(ca[i] - cb[i]));
            }
            lines.Add(new VerificationLine(name, "MultiplyTransposed", "relative to max |C|", maxAbs == 0 ? maxDiff : maxDiff / maxAbs, distanceTol));
        });
    }

    private static void Guard(string caseName, string method, List<VerificationLine> lines, Action body)
    {
        try
        {
            body();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            lines.Add(new VerificationLine(caseName, method, "ran", double.PositiveInfinity, 0, $"{e.GetType().Name}: {e.Message}"));
        }
    }

    private static void CompareCross(string name, FeatureMatrix fake, FeatureMatrix real, CrossRequest request,
        CrossReductions a, CrossReductions b, double distanceTol, double allowance, List<VerificationLine> lines)
    {
        var exact = ExactDistances(fake, real);
        // A distance within this margin of another may be the nearest in a correct backend (the nearest-neighbour
        // distances and indices are the GEMM's, not refined).
        double margin(double r) => distanceTol * Math.Abs(r) + 2 * allowance;
        // Every membership decision is exact on both backends (float64 refinement): equal, whatever the precision.
        int countDiffs = 0, flagDiffs = 0;
        for (int k = 0; k < request.RealRadiiSquared.Count; k++)
        {
            for (int g = 0; g < fake.Rows; g++)
            {
                if (a.FakeInsideRealCountLe[k][g] != b.FakeInsideRealCountLe[k][g]) countDiffs++;
                if (a.FakeInsideRealCountLt[k][g] != b.FakeInsideRealCountLt[k][g]) countDiffs++;
                if (a.FakeComplementLt[k][g] != b.FakeComplementLt[k][g]) flagDiffs++;
            }
            for (int j = 0; j < real.Rows; j++)
            {
                if (a.RealInsideFakeLe[k][j] != b.RealInsideFakeLe[k][j]) flagDiffs++;
                if (a.RealInsideFakeLt[k][j] != b.RealInsideFakeLt[k][j]) flagDiffs++;
                if (a.RealCoveredLt[k][j] != b.RealCoveredLt[k][j]) flagDiffs++;
            }
        }
        lines.Add(new VerificationLine(name, "ReduceCrossDistances", "membership counts differing (exact decisions)", countDiffs, 0,
            $"{b.Refinement.Decisions} comparisons refined in float64"));
        lines.Add(new VerificationLine(name, "ReduceCrossDistances", "recall flags, coverage and complement differing (exact decisions)", flagDiffs, 0));
        string allowed = Allowance(distanceTol, allowance);
        lines.Add(new VerificationLine(name, "ReduceCrossDistances", "nearest real distance, |difference| / allowance", ErrorRatio(a.FakeNearestRealDistanceSquared, b.FakeNearestRealDistanceSquared, distanceTol, allowance), 1, allowed));
        lines.Add(new VerificationLine(name, "ReduceCrossDistances", "nearest fake distance, |difference| / allowance", ErrorRatio(a.RealNearestFakeDistanceSquared, b.RealNearestFakeDistanceSquared, distanceTol, allowance), 1, allowed));
        int badArgmin = 0;
        for (int g = 0; g < fake.Rows; g++)
        {
            int i = a.FakeNearestRealIndex[g], j = b.FakeNearestRealIndex[g];
            if (i != j && Math.Abs(exact[g, i] - exact[g, j]) > margin(exact[g, i])) badArgmin++;
        }
        lines.Add(new VerificationLine(name, "ReduceCrossDistances", "nearest-real index differing beyond near-ties", badArgmin, 0));
        if (a.Realism is not null && b.Realism is not null)
        {
            // The float64 maximum rounded to float32 on both backends: equal.
            int differing = a.Realism.Where((v, g) => v != b.Realism[g]).Count();
            lines.Add(new VerificationLine(name, "ReduceCrossDistances", "realism differing from the reference (exact float64 maximum)", differing, 0));
        }
        else
            lines.Add(new VerificationLine(name, "ReduceCrossDistances", "realism present", 1, 0, "one backend returned no realism"));
    }

    private static string Allowance(double relative, double absolute) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"allowance {relative:G3}·|d²| + {absolute:G3}");

    /// <summary>float64 squared distances, the independent reference for near-tie decisions.</summary>
    private static double[,] ExactDistances(FeatureMatrix fake, FeatureMatrix real)
    {
        var d = new double[fake.Rows, real.Rows];
        for (int g = 0; g < fake.Rows; g++)
        {
            var a = fake.Row(g);
            for (int j = 0; j < real.Rows; j++)
            {
                var b = real.Row(j);
                double s = 0;
                for (int c = 0; c < a.Length; c++)
                {
                    double t = (double)a[c] - b[c];
                    s += t * t;
                }
                d[g, j] = s;
            }
        }
        return d;
    }

    /// <summary>
    /// max |a−b| / (relative·|a| + absolute): at most 1 when every b is within its allowance of a. NaN or a
    /// length mismatch is infinite.
    /// </summary>
    public static double ErrorRatio(float[] a, float[] b, double relative, double absolute)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i]) continue;
            double diff = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(diff)) return double.PositiveInfinity;
            worst = Math.Max(worst, diff / (relative * Math.Abs((double)a[i]) + absolute));
        }
        return worst;
    }

    /// <summary>max |a−b| / max |a|.</summary>
    public static double MaxScaledDifference(double[] a, double[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double maxAbs = 0, maxDiff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(a[i]));
            double diff = Math.Abs(a[i] - b[i]);
            if (double.IsNaN(diff)) return double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, diff);
        }
        return maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
    }

    /// <summary>Mean squared norm of the rows of both sets about the real mean: the size of the Gram form's terms.</summary>
    private static double MeanSquaredNormAbout(FeatureMatrix real, FeatureMatrix fake)
    {
        var mean = new double[real.Dim];
        for (int i = 0; i < real.Rows; i++)
            for (int c = 0; c < real.Dim; c++) mean[c] += real[i, c] / (double)Math.Max(real.Rows, 1);
        double s = 0;
        long n = 0;
        foreach (var m in new[] { real, fake })
            for (int i = 0; i < m.Rows; i++, n++)
                for (int c = 0; c < m.Dim; c++) s += (m[i, c] - mean[c]) * (m[i, c] - mean[c]);
        return n == 0 ? 1 : s / n;
    }

    private static FeatureMatrix Gaussian(Random random, int rows, int dim, float offset, string name)
    {
        var data = new float[rows * dim];
        for (int i = 0; i < data.Length; i++)
            // Box–Muller; an offset moves the set away from the origin, as real network features are.
            data[i] = offset + 5f + (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return new FeatureMatrix(data, rows, dim, name);
    }

    private static (FeatureMatrix Fake, FeatureMatrix Real) Duplicates(Random random, int fakeRows, int realRows, int dim)
    {
        var baseReal = Gaussian(random, realRows / 2, dim, 0f, "real");
        var real = new float[realRows * dim];
        for (int i = 0; i < realRows; i++)
            baseReal.Row(i % baseReal.Rows).CopyTo(real.AsSpan(i * dim, dim));
        var fakeBase = Gaussian(random, fakeRows, dim, 0.2f, "fake");
        var fake = fakeBase.Data;
        // Every third fake is an exact copy of a real row: distance 0 must stay 0 (or within the margin).
        for (int g = 0; g < fakeRows; g += 3)
            baseReal.Row(g % baseReal.Rows).CopyTo(fake.AsSpan(g * dim, dim));
        return (new FeatureMatrix(fake, fakeRows, dim, "fake"), new FeatureMatrix(real, realRows, dim, "real"));
    }
}
