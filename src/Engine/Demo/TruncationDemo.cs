using GenMetrics.Features;

namespace GenMetrics.Demo;

/// <summary>
/// The data behind `genmetrics demo`: a "real" distribution in feature space (a mixture of Gaussian
/// modes) and a synthetic "generator" for it whose truncation parameter ψ pulls every sample toward its
/// mode centre, as StyleGAN's truncation trick pulls w toward w_avg. The generator is deliberately a
/// little off at ψ = 1 (slightly wider modes, uneven mode weights, a small per-mode offset), so that
/// shrinking ψ first helps FID, then hurts it, while precision rises and recall falls — the
/// quality/coverage trade-off of the improved precision and recall paper's truncation experiment.
/// Everything is seeded; the same seed gives the same numbers on every machine.
/// </summary>
public sealed class TruncationDemo
{
    public const int DefaultDim = 64;
    public const int DefaultModes = 16;
    public const int IntrinsicDim = 6;
    private const double IsotropicNoise = 0.05;

    private readonly float[] _centres;
    private readonly float[] _bases;
    private readonly float[] _offsets;
    private readonly double[] _realWeights;
    private readonly double[] _fakeWeights;

    public TruncationDemo(int dim = DefaultDim, int modes = DefaultModes, ulong seed = 1)
    {
        Dim = dim;
        Modes = modes;
        Seed = seed;
        var rng = new SplitMix64Gaussian(seed);
        _centres = new float[modes * dim];
        for (int i = 0; i < _centres.Length; i++) _centres[i] = (float)(1.5 * rng.NextGaussian());
        // Each mode varies along its own random IntrinsicDim-dimensional subspace (plus a little isotropic
        // noise), like image features that lie near a low-dimensional manifold; in a full-dimensional
        // Gaussian every k-NN ball would reach the mode centre and coverage would not react to truncation.
        _bases = new float[modes * IntrinsicDim * dim];
        for (int i = 0; i < _bases.Length; i++) _bases[i] = (float)(rng.NextGaussian() / Math.Sqrt(dim));
        _offsets = new float[modes * dim];
        for (int i = 0; i < _offsets.Length; i++) _offsets[i] = (float)(0.08 * rng.NextGaussian());
        _realWeights = Enumerable.Repeat(1.0 / modes, modes).ToArray();
        // The generator under-represents the last quarter of the modes (a mild mode drop).
        _fakeWeights = Enumerable.Range(0, modes).Select(m => m >= modes * 3 / 4 ? 0.4 : 1.0).ToArray();
        double sum = _fakeWeights.Sum();
        for (int m = 0; m < modes; m++) _fakeWeights[m] /= sum;
    }

    public int Dim { get; }
    public int Modes { get; }
    public ulong Seed { get; }

    /// <summary>The truncation values of the demo's sweep: 1.0, 0.9, ..., 0.3.</summary>
    public static IReadOnlyList<double> SweepPsi { get; } = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];

    /// <summary>n samples of the real distribution: centre of a uniformly chosen mode plus a Gaussian along that mode's subspace.</summary>
    public FeatureMatrix Real(int n, ulong stream = 1) => Sample(n, _realWeights, 1.0, 0.0, new SplitMix64Gaussian(Seed * 1000003 + stream), "demo real set");

    /// <summary>
    /// n generated samples at truncation ψ: centre + per-mode offset + ψ·1.08·(the real set's spread);
    /// ψ = 0 puts every sample on a mode centre.
    /// </summary>
    public FeatureMatrix Generated(int n, double psi, ulong stream = 2)
    {
        if (!(psi >= 0 && psi <= 2)) throw new InputException($"psi must be in [0, 2], got {psi}");
        return Sample(n, _fakeWeights, 1.08 * psi, 1.0, new SplitMix64Gaussian(Seed * 1000003 + stream), $"demo generator (psi {psi:0.0#})");
    }

    private FeatureMatrix Sample(int n, double[] weights, double spread, double offsetScale, SplitMix64Gaussian rng, string name)
    {
        var data = new float[(long)n * Dim];
        Span<double> z = stackalloc double[IntrinsicDim];
        for (int i = 0; i < n; i++)
        {
            int m = Pick(weights, rng.NextDouble());
            for (int t = 0; t < IntrinsicDim; t++) z[t] = rng.NextGaussian();
            for (int d = 0; d < Dim; d++)
            {
                double v = _centres[m * Dim + d] + offsetScale * _offsets[m * Dim + d] + spread * IsotropicNoise * rng.NextGaussian();
                for (int t = 0; t < IntrinsicDim; t++) v += spread * Math.Sqrt(Dim) * _bases[(m * IntrinsicDim + t) * Dim + d] * z[t];
                data[(long)i * Dim + d] = (float)v;
            }
        }
        return new FeatureMatrix(data, n, Dim, name);
    }

    private static int Pick(double[] weights, double u)
    {
        double acc = 0;
        for (int m = 0; m < weights.Length; m++)
        {
            acc += weights[m];
            if (u < acc) return m;
        }
        return weights.Length - 1;
    }

    /// <summary>SplitMix64 uniforms and Box–Muller normals: tiny, seedable, identical on every platform.</summary>
    private sealed class SplitMix64Gaussian(ulong seed)
    {
        private ulong _state = seed;
        private double _spare;
        private bool _hasSpare;

        public double NextDouble()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53));
        }

        public double NextGaussian()
        {
            if (_hasSpare)
            {
                _hasSpare = false;
                return _spare;
            }
            double u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
            double u2 = NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            _spare = r * Math.Sin(2 * Math.PI * u2);
            _hasSpare = true;
            return r * Math.Cos(2 * Math.PI * u2);
        }
    }
}
