using GenMetrics.Features;

namespace GenMetrics.Imaging;

/// <summary>What one extraction produced: the features (one row per decoded image, in sorted file order), what was skipped, and whether the cache answered.</summary>
public sealed record ImageFeatureResult(FeatureMatrix Features, IReadOnlyList<string> RelativePaths, IReadOnlyList<string> Skipped, bool FromCache)
{
    /// <summary>The installed checkpoint behind the features (null for a user's ONNX file).</summary>
    public Models.FeatureProvenance? Provenance { get; init; }
}

/// <summary>
/// Folder or zip of images → feature matrix: lists the files (sorted), decodes and preprocesses one
/// batch at a time in parallel, runs the network on each batch, and caches the result.
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
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Workers > 0 ? options.Workers : Environment.ProcessorCount };

        var features = new List<float>(entries.Count * dim);
        var keptPaths = new List<string>(entries.Count);
        var skipped = new List<string>();
        var batchFeatures = new float[batchSize * dim];

        // Two input buffers: while the network runs on one batch, the next is decoded into the other.
        var buffers = new[] { new PreparedBatch(batchSize, inputLength), new PreparedBatch(batchSize, inputLength) };
        Task Prepare(int batchStart, PreparedBatch target) => Task.Run(() =>
        {
            int count = Math.Min(batchSize, entries.Count - batchStart);
            target.Start = batchStart;
            target.Count = count;
            Array.Clear(target.Errors);
            Parallel.For(0, count, parallel, i =>
            {
                var entry = entries[batchStart + i];
                var name = collection.DisplayName(entry);
                try
                {
                    var image = decoder.Decode(collection.ReadBytes(entry), name);
                    preprocessor.Process(image, name, target.Inputs.AsSpan(i * inputLength, inputLength));
                }
                catch (InputException e)
                {
                    target.Errors[i] = e.Message;
                }
            });
        });

        Task pending = Prepare(0, buffers[0]);
        try
        {
            for (int start = 0, turn = 0; start < entries.Count; start += batchSize, turn ^= 1)
            {
                pending.GetAwaiter().GetResult();
                var batch = buffers[turn];
                pending = start + batchSize < entries.Count ? Prepare(start + batchSize, buffers[turn ^ 1]) : Task.CompletedTask;

                // Compact the decoded images to the front so the network sees one dense batch.
                int kept = 0;
                for (int i = 0; i < batch.Count; i++)
                {
                    var error = batch.Errors[i];
                    if (error != null)
                    {
                        if (options.Strict) throw new InputException(error);
                        skipped.Add($"{entries[batch.Start + i].RelativePath}\t{error}");
                        notice?.Invoke($"skipped {error}");
                        continue;
                    }
                    if (kept != i) batch.Inputs.AsSpan(i * inputLength, inputLength).CopyTo(batch.Inputs.AsSpan(kept * inputLength, inputLength));
                    keptPaths.Add(entries[batch.Start + i].RelativePath);
                    kept++;
                }
                if (kept > 0)
                {
                    network.Run(batch.Inputs.AsSpan(0, kept * inputLength), kept, batchFeatures.AsSpan(0, kept * dim));
                    features.AddRange(batchFeatures.AsSpan(0, kept * dim));
                }
                progress?.Report((double)(batch.Start + batch.Count) / entries.Count);
            }
        }
        finally
        {
            // Never leave a decoder task running against a collection that is about to be disposed.
            try { pending.Wait(); } catch (AggregateException) { }
        }

        if (keptPaths.Count == 0)
            throw InputException.For(collection.Source, $"none of the {entries.Count} images could be decoded");
        var matrix = new FeatureMatrix(features.ToArray(), keptPaths.Count, dim, collection.Source);
        return new ImageFeatureResult(matrix, keptPaths, skipped, false);
    }

    sealed class PreparedBatch(int capacity, int inputLength)
    {
        public readonly float[] Inputs = new float[(long)capacity * inputLength];
        public readonly string?[] Errors = new string?[capacity];
        public int Start;
        public int Count;
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
