namespace GenMetrics.Generators;

/// <summary>A generator turned into pixels: latents in, images [n, 3, H, W] in [0, 255] (float, unquantised) out.</summary>
public interface IGenerator : IDisposable
{
    /// <summary>Readable name for messages (the description's file name).</summary>
    string Name { get; }

    /// <summary>Z, the length of one latent.</summary>
    int LatentDim { get; }

    (int Height, int Width) ImageSize { get; }

    /// <param name="z">Row-major [n, LatentDim] latents (see <see cref="Latents"/>).</param>
    /// <param name="n">Number of latents (rows of z).</param>
    /// <param name="psi">Truncation: 1 for none; in [−1, 2].</param>
    /// <param name="options">Truncation cutoff, class; null for the defaults.</param>
    /// <returns>Row-major [n, 3, H, W] pixels in [0, 255] (float; quantise with <see cref="ImageQuantizer"/>).</returns>
    float[] Generate(ReadOnlySpan<float> z, int n, double psi = 1.0, GenerationOptions? options = null);

    /// <summary>
    /// Throws the <see cref="InputException"/> that <see cref="Generate"/> would throw for this psi and these
    /// options (psi out of range, no psi input, a cutoff on a single graph, a missing or unexpected class),
    /// without running the network: long runs check every request before the first sample.
    /// </summary>
    void CheckRequest(double psi, GenerationOptions? options = null);
}

/// <param name="TruncationCutoff">StyleGAN generators: truncate only the first N style layers (null: all).</param>
/// <param name="ClassIndex">Conditional generators: the class fed one-hot to the class input.</param>
public sealed record GenerationOptions(int? TruncationCutoff = null, int? ClassIndex = null);
