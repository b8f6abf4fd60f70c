namespace GenMetrics.Imaging;

/// <summary>
/// A feature network (FID-Inception pool3, VGG-16 fc2, or any ONNX model) that turns a batch of
/// preprocessed images into feature vectors. The preprocessing (decode, resize, normalise) happens
/// before: the input is exactly what the reference network receives, NCHW float32.
/// </summary>
public interface IFeatureNetwork : IDisposable
{
    /// <summary>Readable name, e.g. "inception-v3-fid (pt_inception-2015-12-05-6726825d)".</summary>
    string Name { get; }

    /// <summary>Content hash of the model (weights and graph): part of every feature-cache key.</summary>
    string CacheKey { get; }

    int InputHeight { get; }
    int InputWidth { get; }
    int FeatureDim { get; }

    /// <summary>
    /// batch: [n, 3, InputHeight, InputWidth] float32; features: [n, FeatureDim], row-major.
    /// </summary>
    void Run(ReadOnlySpan<float> batch, int n, Span<float> features);
}
