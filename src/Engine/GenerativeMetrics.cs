using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Imaging;
using GenMetrics.Metrics;

namespace GenMetrics;

/// <summary>
/// The typed managed API in one place: features of an image folder or zip, their Gaussian statistics, and
/// each metric on features or statistics, as records. Every method computes on <c>backend</c>
/// when one is given (see <see cref="ComputeBackends.Create"/>), else on the CPU. Bad input (missing file,
/// no images, a network not installed, mismatched dimensions, NaN/Inf, too few samples) is an
/// <see cref="InputException"/> whose message names the file and the problem. Definitions:
/// ../shared/docs/metrics-spec.md; the reference each number reproduces is given per method.
/// </summary>
/// <example><code>
/// var real = GenerativeMetrics.Features("real/", FeatureLayer.InceptionPool3);      // [N, 2048]
/// var fake = GenerativeMetrics.Features("fake.zip", FeatureLayer.InceptionPool3);
/// double fid = GenerativeMetrics.Fid(GenerativeMetrics.Statistics(real), GenerativeMetrics.Statistics(fake));
/// </code></example>
public static class GenerativeMetrics
{
    /// <summary>
    /// Features [images, D] (float32, rows in ordinal path order) of a folder or .zip through a network
    /// layer: <see cref="FeatureLayer.InceptionPool3"/> (D = 2048), <see cref="FeatureLayer.InceptionLogitsUnbiased"/>
    /// (1008), <see cref="FeatureLayer.Vgg16Fc2Relu"/> (4096) or <c>new FeatureLayer("net.onnx", "output")</c>.
    /// <paramref name="options"/> chooses the reference preprocessing (Mode: clean = clean-fid, legacy-pytorch =
    /// pytorch-fid, legacy-tensorflow = TTUR/StyleGAN2/torch-fidelity), limits and the cache. Unreadable
    /// images are skipped and reported through <paramref name="notice"/> unless Strict is set.
    /// </summary>
    public static FeatureMatrix Features(string images, FeatureLayer layer, ImagePipelineOptions? options = null,
        IProgress<double>? progress = null, Action<string>? notice = null) =>
        ImageFeatures.Extract(images, layer, options, progress, notice).Features;

    /// <summary>Features from a .npy (float32/float64 [N, D]) or one array of an .npz.</summary>
    public static FeatureMatrix LoadFeatures(string path, string? key = null) => FeatureFiles.Open(path, key) switch
    {
        FeatureFileInput file => file.Load(),
        _ => throw InputException.For(path, "holds statistics (mu, sigma), not per-sample features"),
    };

    /// <summary>Writes features as a float32 [N, D] .npy (numpy.load reads it).</summary>
    public static void SaveFeatures(FeatureMatrix features, string path) =>
        FeatureFiles.WriteNpy(path, features);

    /// <summary>
    /// Mean [D] and covariance [D, D] in float64 with the N − 1 divisor (np.cov; pytorch-fid, TTUR), or N
    /// (StyleGAN2-ADA) with <paramref name="divisor"/>. Needs at least 2 rows.
    /// </summary>
    public static GaussianStatistics Statistics(FeatureMatrix features, CovarianceDivisor divisor = CovarianceDivisor.NMinusOne, IComputeBackend? backend = null)
    {
        if (features.Rows < 2) throw InputException.For(features.Name, $"needs at least 2 samples for a covariance, has {features.Rows}");
        return With(backend, b => b.ComputeStatistics(features, divisor));
    }

    /// <summary>Statistics from an .npz holding mu and sigma (pytorch-fid's --save-stats layout).</summary>
    public static GaussianStatistics LoadStatistics(string path) => FeatureFiles.ReadStatistics(path);

    /// <summary>Writes mu [D] and sigma [D, D] (float64) as an .npz that pytorch-fid and TTUR read.</summary>
    public static void SaveStatistics(GaussianStatistics statistics, string path) => FeatureFiles.WriteStatistics(path, statistics);

    /// <summary>Fréchet Inception Distance ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½) in float64 (pytorch-fid / TTUR).</summary>
    public static double Fid(GaussianStatistics real, GaussianStatistics fake, IComputeBackend? backend = null) =>
        With(backend, b => Metrics.Fid.FromStatistics(real, fake, b));

    /// <summary>FID from two feature matrices (statistics with the N − 1 divisor first).</summary>
    public static double Fid(FeatureMatrix real, FeatureMatrix fake, IComputeBackend? backend = null) =>
        With(backend, b => Metrics.Fid.FromStatistics(Statistics(real, backend: b), Statistics(fake, backend: b), b));

    /// <summary>Kernel Inception Distance: unbiased MMD² with the cubic polynomial kernel over random subsets (torch-fidelity's draws).</summary>
    public static KidResult Kid(FeatureMatrix real, FeatureMatrix fake, int subsets = MetricDefaults.KidSubsets, int subsetSize = MetricDefaults.KidSubsetSize, int seed = MetricDefaults.Seed, IComputeBackend? backend = null) =>
        With(backend, b => Metrics.Kid.Compute(real, fake, b, subsets, subsetSize, seed));

    /// <summary>Inception Score from unbiased logits [N, 1008] (<see cref="FeatureLayer.InceptionLogitsUnbiased"/>) or probabilities; torch-fidelity / StyleGAN2-ADA.</summary>
    public static InceptionScoreResult InceptionScore(FeatureMatrix logits, int splits = MetricDefaults.InceptionScoreSplits, bool shuffle = false, int seed = MetricDefaults.Seed) =>
        Metrics.InceptionScore.Compute(logits, splits, shuffle, seed);

    /// <summary>
    /// Every k-NN metric at one k from one pass: NVIDIA improved precision/recall (k = 3 in the papers),
    /// prdc precision/recall/density/coverage (k = 5), manifmetric symmetric precision/recall. Use VGG-16
    /// features (<see cref="FeatureLayer.Vgg16Fc2Relu"/>) to match the references.
    /// </summary>
    public static KnnMetricsAtK Knn(FeatureMatrix real, FeatureMatrix fake, int k, IComputeBackend? backend = null) =>
        With(backend, b => KnnMetrics.Compute(real, fake, [k], b).PerK[0]);

    /// <summary>Kynkäänniemi realism score of every fake sample [N_fake] against the reals (k = 3, radii pruned at the median).</summary>
    public static RealismScores Realism(FeatureMatrix real, FeatureMatrix fake, int k = Metrics.Realism.DefaultK, IComputeBackend? backend = null) =>
        With(backend, b => Metrics.Realism.Scores(real, fake, b, k));

    static T With<T>(IComputeBackend? backend, Func<IComputeBackend, T> work)
    {
        if (backend is not null) return work(backend);
        using var cpu = new CpuBackend();
        return work(cpu);
    }
}
