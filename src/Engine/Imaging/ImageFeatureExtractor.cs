using GenMetrics.Features;

namespace GenMetrics.Imaging;

/// <summary>What one extraction produced: the features (one row per decoded image, in sorted file order), what was skipped, and whether the cache answered.</summary>
public sealed record ImageFeatureResult(FeatureMatrix Features, IReadOnlyList<string> RelativePaths, IReadOnlyList<string> Skipped, bool FromCache);

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
        var preprocessor = new ImagePreprocessor(options.Mode, network.InputWidth, network.InputHeight);

        using var collection = ImageCollection.Open(path, decoder.Extensions, options.MaxImages);
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
        cache?.Store(key!, result.Features.Data, result.Features.Rows, result.Features.Dim, result.Skipped);
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
        var inputs = new float[(long)batchSize * inputLength];
        var errors = new string?[batchSize];
        var batchFeatures = new float[batchSize * dim];

        for (int start = 0; start < entries.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, entries.Count - start);
            Array.Clear(errors);
            Parallel.For(0, count, parallel, i =>
            {
                var entry = entries[start + i];
                var name = collection.DisplayName(entry);
                try
                {
                    var image = decoder.Decode(collection.ReadBytes(entry), name);
                    preprocessor.Process(image, name, inputs.AsSpan(i * inputLength, inputLength));
                }
                catch (InputException e)
                {
                    errors[i] = e.Message;
                }
            });

            // Compact the decoded images to the front so the network sees one dense batch.
            int kept = 0;
            for (int i = 0; i < count; i++)
            {
                if (errors[i] != null)
                {
                    if (options.Strict) throw new InputException(errors[i]!);
                    var line = $"{entries[start + i].RelativePath}\t{errors[i]}";
                    skipped.Add(line);
                    notice?.Invoke($"skipped {errors[i]}");
                    continue;
                }
                if (kept != i) inputs.AsSpan(i * inputLength, inputLength).CopyTo(inputs.AsSpan(kept * inputLength, inputLength));
                keptPaths.Add(entries[start + i].RelativePath);
                kept++;
            }
            if (kept > 0)
            {
                network.Run(inputs.AsSpan(0, kept * inputLength), kept, batchFeatures.AsSpan(0, kept * dim));
                features.AddRange(batchFeatures.AsSpan(0, kept * dim));
            }
            progress?.Report((double)(start + count) / entries.Count);
        }

        if (keptPaths.Count == 0)
            throw InputException.For(collection.Source, $"none of the {entries.Count} images could be decoded");
        var matrix = new FeatureMatrix(features.ToArray(), keptPaths.Count, dim, collection.Source);
        return new ImageFeatureResult(matrix, keptPaths, skipped, false);
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
