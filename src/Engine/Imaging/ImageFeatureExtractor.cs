using GenMetrics.Features;

namespace GenMetrics.Imaging;

/// <summary>What one extraction produced: the features (one row per decoded image, in sorted file order, or an image list's order), what was skipped, and whether the cache answered.</summary>
public sealed record ImageFeatureResult(FeatureMatrix Features, IReadOnlyList<string> RelativePaths, IReadOnlyList<string> Skipped, bool FromCache)
{
    /// <summary>The installed checkpoint behind the features (null for a user's ONNX file).</summary>
    public Models.FeatureProvenance? Provenance { get; init; }
}

/// <summary>
/// Folder, zip or image list → feature matrix: lists the files (sorted; a list in its own order), decodes
/// and preprocesses them on every core through a bounded, ordered <see cref="BatchQueue{TBuffer}"/> while
/// the network runs on the oldest complete batch, and caches the result.
/// </summary>
public sealed class ImageFeatureExtractor
{
    readonly IImageDecoder decoder;

    public ImageFeatureExtractor(IImageDecoder? decoder = null) => this.decoder = decoder ?? StbImageDecoder.Instance;

    public FeatureMatrix Extract(string path, ImagePipelineOptions options, IFeatureNetwork network,
        IProgress<double>? progress = null, Action<string>? notice = null) =>
        ExtractDetailed(path, options, network, progress, notice).Features;

    public ImageFeatureResult ExtractDetailed(string path, ImagePipelineOptions options, IFeatureNetwork network,
        IProgress<double>? progress = null, Action<string>? notice = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(network);
        if (options.BatchSize <= 0) throw InputException.For(null, $"batch size must be positive, got {options.BatchSize}");
        if (options.MaxImages < 0) throw InputException.For(null, $"max images must not be negative, got {options.MaxImages}");
        var preprocessor = new ImagePreprocessor(options.Mode, network.InputWidth, network.InputHeight) { Normalization = options.Normalization, CenterCrop = options.CenterCrop };

        using var collection = ImageCollection.Open(path, decoder.Extensions, options.MaxImages);
        if (collection.LeftOutSummary is { } leftOut) notice?.Invoke($"{path}: {leftOut}");
        var cache = options.UseCache ? new FeatureCache(options.CacheDirectory ?? FeatureCache.DefaultDirectory) : null;
        string? key = cache != null ? FeatureCache.Key(network.CacheKey, preprocessor, collection) : null;

        if (cache != null && cache.TryLoad(key!, out var cached, out int cachedRows, out int cachedDim, out var cachedSkipped)
            && cachedDim == network.FeatureDim && cachedRows + cachedSkipped.Count == collection.Entries.Count)
        {
            ReportSkipped(cachedSkipped, options.Strict, notice);
            var skippedNames = new HashSet<string>(cachedSkipped.Select(s => s.Split('\t')[0]), StringComparer.Ordinal);
            var kept = collection.Entries.Select(e => e.RelativePath).Where(p => !skippedNames.Contains(p)).ToArray();
            progress?.Report(1.0);
            return new ImageFeatureResult(new FeatureMatrix(cached, cachedRows, cachedDim, path), kept, cachedSkipped, true);
        }

        var result = Compute(collection, preprocessor, options, network, progress, notice);
        if (cache != null)
        {
            try
            {
                cache.Store(key!, result.Features.Data, result.Features.Rows, result.Features.Dim, result.Skipped);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The features are computed and correct; a full disk or read-only cache must not lose them.
                notice?.Invoke($"feature cache not written ({cache.Directory}: {e.Message})");
            }
        }
        return result;
    }

    ImageFeatureResult Compute(ImageCollection collection, ImagePreprocessor preprocessor, ImagePipelineOptions options,
        IFeatureNetwork network, IProgress<double>? progress, Action<string>? notice)
    {
        var entries = collection.Entries;
        int inputLength = preprocessor.OutputLength;
        int dim = network.FeatureDim;
        int batchSize = options.BatchSize;
        int workers = options.Workers > 0 ? options.Workers : Environment.ProcessorCount;
        int depth = options.QueueDepth > 0 ? options.QueueDepth : DefaultQueueDepth;

        var features = new List<float>(entries.Count * dim);
        var keptPaths = new List<string>(entries.Count);
        var skipped = new List<string>();
        var batchFeatures = new float[batchSize * dim];

        // Every core decodes and resizes, one image at a time, up to depth − 1 batches ahead of the
        // network; the network takes the batches in file order. Memory: depth batch buffers.
        using var queue = new BatchQueue<PreparedBatch>(entries.Count, batchSize, depth, workers,
            () => new PreparedBatch(batchSize, inputLength),
            (target, item, i) =>
            {
                var entry = entries[item];
                var name = collection.DisplayName(entry);
                try
                {
                    var bytes = collection.ReadBytes(entry);
                    // The default decoder reuses one pixel array per worker: the image is resized at once.
                    var image = decoder is StbImageDecoder stb ? stb.DecodeTransient(bytes, name) : decoder.Decode(bytes, name);
                    preprocessor.Process(image, name, target.Inputs.AsSpan(i * inputLength, inputLength));
                    target.Errors[i] = null;
                }
                catch (InputException e)
                {
                    target.Errors[i] = e.Message;
                }
            });
        foreach (var (batch, batchStart, batchCount) in queue.Batches())
        {
            // Compact the decoded images to the front so the network sees one dense batch.
            int kept = 0;
            for (int i = 0; i < batchCount; i++)
            {
                var error = batch.Errors[i];
                if (error != null)
                {
                    if (options.Strict) throw new InputException(error);
                    skipped.Add($"{entries[batchStart + i].RelativePath}\t{error}");
                    notice?.Invoke($"skipped {error}");
                    continue;
                }
                if (kept != i) batch.Inputs.AsSpan(i * inputLength, inputLength).CopyTo(batch.Inputs.AsSpan(kept * inputLength, inputLength));
                keptPaths.Add(entries[batchStart + i].RelativePath);
                kept++;
            }
            if (kept > 0)
            {
                network.Run(batch.Inputs.AsSpan(0, kept * inputLength), kept, batchFeatures.AsSpan(0, kept * dim));
                features.AddRange(batchFeatures.AsSpan(0, kept * dim));
            }
            progress?.Report((double)(batchStart + batchCount) / entries.Count);
        }

        if (keptPaths.Count == 0)
            throw InputException.For(collection.Source, $"none of the {entries.Count} images could be decoded");
        var matrix = new FeatureMatrix(features.ToArray(), keptPaths.Count, dim, collection.Source);
        return new ImageFeatureResult(matrix, keptPaths, skipped, false);
    }

    /// <summary>Batches decoded ahead of the network when <see cref="ImagePipelineOptions.QueueDepth"/> is 0, counting the one it runs on.</summary>
    public const int DefaultQueueDepth = 3;

    sealed class PreparedBatch(int capacity, int inputLength)
    {
        public readonly float[] Inputs = new float[(long)capacity * inputLength];
        public readonly string?[] Errors = new string?[capacity];
    }

    static void ReportSkipped(IReadOnlyList<string> skipped, bool strict, Action<string>? notice)
    {
        foreach (var line in skipped)
        {
            var reason = line.Contains('\t') ? line[(line.IndexOf('\t') + 1)..] : line;
            if (strict) throw new InputException(reason);
            notice?.Invoke($"skipped {reason}");
        }
    }
}
