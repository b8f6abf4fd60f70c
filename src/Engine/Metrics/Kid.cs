using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Randomness;

namespace GenMetrics.Metrics;

/// <summary>KID over <see cref="Subsets"/> subsets of <see cref="SubsetSize"/> rows per set.</summary>
/// <param name="Mean">Mean of the unbiased MMD² estimates (KID; papers often print it ×10³).</param>
/// <param name="Std">Population standard deviation of the per-subset estimates (torch-fidelity's kid_std).</param>
/// <param name="Subsets">Number of subsets drawn.</param>
/// <param name="SubsetSize">Rows per set in each subset, min(N_real, N_fake, requested size).</param>
/// <param name="Seed">Seed of the numpy-compatible RandomState the subsets were drawn from.</param>
/// <param name="SubsetValues">The per-subset MMD² estimates, in draw order.</param>
public sealed record KidResult(double Mean, double Std, int Subsets, int SubsetSize, int Seed, IReadOnlyList<double> SubsetValues);

/// <summary>
/// Kernel Inception Distance (metrics-spec §4): polynomial kernel k(a, b) = (aᵀb/D + 1)³ and the unbiased
/// MMD² estimator, averaged over random subsets.
/// </summary>
public static class Kid
{
    /// <summary>
    /// The checks of <see cref="Compute"/> on its inputs and parameters, without computing anything (so that a
    /// caller can refuse bad input before any work starts): throws the <see cref="InputException"/> Compute would.
    /// </summary>
    public static void Validate(FeatureMatrix real, FeatureMatrix fake, int subsets, int subsetSize, int seed, KidSmallSets smallSets)
    {
        KnnMetrics.ValidateSets(real, fake);
        if (subsets < 1) throw new InputException($"KID needs at least 1 subset, got {subsets}");
        if (subsetSize < 2) throw new InputException($"KID subset size must be at least 2, got {subsetSize}");
        if (seed < 0) throw new InputException($"seed must be a non-negative 32-bit integer, got {seed}");
        if (smallSets == KidSmallSets.Error && Math.Min(real.Rows, fake.Rows) < subsetSize)
        {
            var small = real.Rows < fake.Rows ? real : fake;
            throw InputException.For(small.Name, $"KID with subsets of {subsetSize} needs at least {subsetSize} samples per set, has {small.Rows} (this convention refuses smaller sets, as its tool does; --kid-subset-size sets a smaller subset)");
        }
        if (Math.Min(subsetSize, Math.Min(real.Rows, fake.Rows)) < 2)
        {
            var small = real.Rows < fake.Rows ? real : fake;
            throw InputException.For(small.Name, $"KID needs at least 2 samples per set, has {small.Rows}");
        }
    }

    /// <summary>
    /// Subsets are drawn as torch-fidelity does: numpy RandomState(seed), and per subset first
    /// choice(N_fake, m, replace=False) for the fake rows (torch-fidelity's input1), then the same for the
    /// real rows. The subset size actually used is m = min(N_real, N_fake, subsetSize): like StyleGAN2-ADA
    /// and clean-fid we shrink it instead of failing as torch-fidelity does when a set is smaller than
    /// subsetSize (with both sets ≥ subsetSize, the draws equal torch-fidelity's), unless
    /// <paramref name="smallSets"/> asks to refuse. <paramref name="drawOrder"/> RealFirst draws the real rows of
    /// each round first (torchmetrics, dgm-eval; their generators are unseeded). Gram matrices are
    /// float32 products from the backend; the kernel values and their sums are float64.
    /// </summary>
    public static KidResult Compute(
        FeatureMatrix real,
        FeatureMatrix fake,
        IComputeBackend backend,
        int subsets = MetricDefaults.KidSubsets,
        int subsetSize = MetricDefaults.KidSubsetSize,
        int seed = MetricDefaults.Seed,
        KidDrawOrder drawOrder = KidDrawOrder.FakeFirst,
        KidSmallSets smallSets = KidSmallSets.Shrink)
    {
        Validate(real, fake, subsets, subsetSize, seed, smallSets);
        int m = Math.Min(subsetSize, Math.Min(real.Rows, fake.Rows));

        int dim = real.Dim;
        var rng = new NumpyRandomState((uint)seed);
        var x = new float[m * dim];
        var y = new float[m * dim];
        var gram = new float[m * m];
        var values = new double[subsets];
        for (int s = 0; s < subsets; s++)
        {
            if (drawOrder == KidDrawOrder.FakeFirst)
            {
                Gather(fake, rng.ChoiceWithoutReplacement(fake.Rows, m), x);
                Gather(real, rng.ChoiceWithoutReplacement(real.Rows, m), y);
            }
            else
            {
                Gather(real, rng.ChoiceWithoutReplacement(real.Rows, m), y);
                Gather(fake, rng.ChoiceWithoutReplacement(fake.Rows, m), x);
            }
            backend.MultiplyTransposed(x, m, x, m, dim, gram);
            double sumXx = KernelSum(gram, dim, excludeDiagonal: m);
            backend.MultiplyTransposed(y, m, y, m, dim, gram);
            double sumYy = KernelSum(gram, dim, excludeDiagonal: m);
            backend.MultiplyTransposed(x, m, y, m, dim, gram);
            double sumXy = KernelSum(gram, dim, excludeDiagonal: 0);
            values[s] = (sumXx + sumYy) / ((double)m * (m - 1)) - 2 * sumXy / ((double)m * m);
        }

        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / subsets;
        return new KidResult(mean, Math.Sqrt(variance), subsets, m, seed, values);
    }

    private static void Gather(FeatureMatrix source, int[] rows, float[] destination)
    {
        for (int i = 0; i < rows.Length; i++) source.Row(rows[i]).CopyTo(destination.AsSpan(i * source.Dim, source.Dim));
    }

    // Σ (g/D + 1)³ over the Gram matrix; with excludeDiagonal = m (square m x m), the diagonal is left out.
    private static double KernelSum(float[] gram, int dim, int excludeDiagonal)
    {
        double sum = 0;
        for (int i = 0; i < gram.Length; i++)
        {
            double t = gram[i] / (double)dim + 1.0;
            sum += t * t * t;
        }
        if (excludeDiagonal > 0)
        {
            for (int i = 0; i < excludeDiagonal; i++)
            {
                double t = gram[i * excludeDiagonal + i] / (double)dim + 1.0;
                sum -= t * t * t;
            }
        }
        return sum;
    }
}
