using GenMetrics.Features;
using GenMetrics.Imaging;

namespace GenMetrics.Generators;

/// <summary>
/// Generator → images → features without keeping the images: each batch of latents is generated,
/// quantised to uint8 as StyleGAN2-ADA does before any feature extractor (metrics-spec §2.2), put
/// through the reference preprocessing of the chosen mode and fed to every network at once, so that
/// Inception and VGG-16 features of the same samples cost one generation.
/// </summary>
public static class GeneratedFeatures
{
    public static FeatureMatrix[] Extract(
        IGenerator generator,
        IReadOnlyList<uint> seeds,
        double psi,
        GenerationOptions? options,
        IReadOnlyList<IFeatureNetwork> networks,
        ResizeMode mode,
        int batchSize = 16,
        IProgress<double>? progress = null,
        string name = "generated",
        InputNormalization? normalization = null,
        bool centerCrop = false)
    {
        if (seeds.Count == 0) throw new InputException("no seeds to generate");
        if (batchSize < 1) throw new InputException($"batch size must be positive, got {batchSize}");
        var (h, w) = generator.ImageSize;
        int imageFloats = 3 * h * w;
        var preprocessors = networks.Select(n => new ImagePreprocessor(mode, n.InputWidth, n.InputHeight) { Normalization = normalization, CenterCrop = centerCrop }).ToArray();
        var outputs = networks.Select(n => new float[(long)seeds.Count * n.FeatureDim]).ToArray();
        var seedArray = seeds.ToArray();
        for (int start = 0; start < seedArray.Length; start += batchSize)
        {
            int count = Math.Min(batchSize, seedArray.Length - start);
            var z = Latents.ForSeeds(seedArray.AsSpan(start, count), generator.LatentDim);
            var pixels = ImageQuantizer.ToUInt8(generator.Generate(z, count, psi, options));
            for (int q = 0; q < networks.Count; q++)
            {
                var network = networks[q];
                int inputFloats = 3 * network.InputHeight * network.InputWidth;
                var batch = new float[(long)count * inputFloats];
                for (int i = 0; i < count; i++)
                {
                    var image = RgbImage.FromPlanar(pixels.AsSpan(i * imageFloats, imageFloats), w, h);
                    preprocessors[q].Process(image, $"{name} seed {seedArray[start + i]}", batch.AsSpan(i * inputFloats, inputFloats));
                }
                network.Run(batch, count, outputs[q].AsSpan(start * network.FeatureDim, count * network.FeatureDim));
            }
            progress?.Report((double)(start + count) / seedArray.Length);
        }
        return networks.Select((n, q) => new FeatureMatrix(outputs[q], seedArray.Length, n.FeatureDim, name)).ToArray();
    }
}
