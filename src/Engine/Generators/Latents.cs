using GenMetrics.Randomness;

namespace GenMetrics.Generators;

/// <summary>
/// The latent for a seed exactly as StyleGAN's scripts draw it: <c>np.random.RandomState(seed).randn(1, Z)</c>,
/// so seed 42 here is seed 42 there. numpy gives float64; the values are rounded to float32 (round to
/// nearest), which is what the network sees once torch casts the input to the weights' dtype.
/// </summary>
public static class Latents
{
    public static float[] ForSeed(uint seed, int z)
    {
        var latent = new float[z];
        ForSeed(seed, latent);
        return latent;
    }

    public static void ForSeed(uint seed, Span<float> latent)
    {
        var random = new NumpyRandomState(seed);
        for (int i = 0; i < latent.Length; i++) latent[i] = (float)random.StandardNormal();
    }

    /// <summary>Row-major [seeds.Length, z]: row i is the latent of seeds[i].</summary>
    public static float[] ForSeeds(ReadOnlySpan<uint> seeds, int z)
    {
        var latents = new float[seeds.Length * z];
        for (int i = 0; i < seeds.Length; i++) ForSeed(seeds[i], latents.AsSpan(i * z, z));
        return latents;
    }
}
