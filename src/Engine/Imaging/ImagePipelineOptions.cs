namespace GenMetrics.Imaging;

/// <summary>Options of the folder → features pipeline.</summary>
public sealed record ImagePipelineOptions
{
    public ResizeMode Mode { get; init; } = ResizeMode.Clean;

    /// <summary>&gt; 0: only the first N files in sorted order (an image list's: listed order) (skipped files are not replaced).</summary>
    public int MaxImages { get; init; }

    /// <summary>A corrupt or unreadable image is an <see cref="InputException"/> instead of a skipped, counted notice.</summary>
    public bool Strict { get; init; }

    /// <summary>Images decoded, resized and fed to the network together.</summary>
    public int BatchSize { get; init; } = 32;

    public bool UseCache { get; init; } = true;

    /// <summary>null: <see cref="FeatureCache.DefaultDirectory"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>The value map for the network instead of the mode's own (null: the mode's); see <see cref="ImagePreprocessor.Normalization"/>.</summary>
    public InputNormalization? Normalization { get; init; }

    /// <summary>Keep the aspect ratio and take the centre (CLIP) instead of stretching; see <see cref="ImagePreprocessor.CenterCrop"/>.</summary>
    public bool CenterCrop { get; init; }

    /// <summary>Where the network runs (null: the CPU); <see cref="Models.NetworkDevice.Auto"/> uses CUDA when its provider loads.</summary>
    public Models.NetworkDevice? Device { get; init; }

    /// <summary>Decode/resize workers; 0 = one per core.</summary>
    public int Workers { get; init; }

    /// <summary>
    /// Batch buffers in the decode queue, counting the one the network runs on (0 = <see cref="ImageFeatureExtractor.DefaultQueueDepth"/>):
    /// memory is QueueDepth × BatchSize network inputs whatever the number of images.
    /// </summary>
    public int QueueDepth { get; init; }
}
