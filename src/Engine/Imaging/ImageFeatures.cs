using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Models;

namespace GenMetrics.Imaging;

/// <summary>
/// The engine's images → features pipeline behind the CLI, the typed API and the C API: a folder or .zip
/// is listed (sorted), decoded, resized and normalised per <see cref="ImagePipelineOptions.Mode"/>,
/// batched through the network of a <see cref="FeatureLayer"/>, and cached (docs/images.md).
/// </summary>
public static class ImageFeatures
{
    /// <summary>
    /// True for a directory, a .zip file or an image list (a .txt file, one image path per line; see
    /// <see cref="ImageCollection.IsList"/>): inputs that hold images rather than features.
    /// </summary>
    public static bool IsImageSource(string path) =>
        Directory.Exists(path) || (File.Exists(path) && path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        || (File.Exists(path) && ImageCollection.IsList(path));

    /// <summary>
    /// Features [images, D] of one layer for a folder or zip, rows in sorted file order (skipped files are
    /// listed in the result). Errors (no images, network not installed, corrupt file with Strict) are
    /// <see cref="InputException"/>s naming the file.
    /// </summary>
    public static ImageFeatureResult Extract(string path, FeatureLayer layer, ImagePipelineOptions? options = null,
        IProgress<double>? progress = null, Action<string>? notice = null, ModelStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (!IsImageSource(path)) throw InputException.For(path, File.Exists(path) ? "not a folder, .zip or .txt list of images" : "no such file or folder");
        using var network = layer.Open(store, options?.Device, notice);
        return new ImageFeatureExtractor().ExtractDetailed(path, options ?? new ImagePipelineOptions(), network, progress, notice)
            with { Provenance = network.Provenance };
    }

    /// <summary>
    /// The metric input of a folder or zip: for each layer the asked groups need (<see cref="FeatureLayer.For"/>),
    /// one extraction. With <paramref name="layer"/> (a user's own network) its features serve every metric.
    /// With <paramref name="groups"/> null, whatever the installed models allow (Inception and/or VGG-16).
    /// </summary>
    /// <param name="path">A folder or .zip of images.</param>
    /// <param name="groups">The metrics to serve; null: what the installed models allow.</param>
    /// <param name="options">Mode, limits, batch size, cache.</param>
    /// <param name="layer">A user's own network layer for every metric, or null for the standard ones.</param>
    /// <param name="phase">Called with "NAME: NETWORK LAYER features" before each extraction; returns its progress sink.</param>
    /// <param name="notice">Receives one line per skipped file and cache problem.</param>
    /// <param name="store">Where installed models are; null: <see cref="ModelStore.Default"/>.</param>
    /// <param name="knnLayer">The standard k-NN network's layer instead of fc2_relu (a convention's choice: manifmetric's fc2 before the ReLU).</param>
    public static MetricInput ForMetrics(string path, IReadOnlyList<MetricGroup>? groups, ImagePipelineOptions options,
        FeatureLayer? layer = null, Func<string, IProgress<double>?>? phase = null, Action<string>? notice = null, ModelStore? store = null,
        string? knnLayer = null)
    {
        string label = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        var provenance = new List<FeatureProvenance>();
        FeatureMatrix Run(FeatureLayer l)
        {
            var result = Extract(path, l, options, phase?.Invoke($"{label}: {l} features"), notice, store);
            if (result.Provenance is { } p) provenance.Add(p);
            return new FeatureMatrix(result.Features.Data, result.Features.Rows, result.Features.Dim, path);
        }

        if (layer is not null)
        {
            var own = Run(layer);
            return MetricInput.FromImages(path, own, own, provenance, $"{Path.GetFileName(layer.Network)}:{layer.Layer}{(layer.IsOnlyOutput ? " (its only output)" : "")}");
        }
        store ??= ModelStore.Default();
        var gaussianGroups = groups?.Where(g => !IsKnn(g)).ToList();
        var knnGroups = groups?.Where(IsKnn).ToList();
        FeatureLayer? gaussian = null, knn = null;
        if (groups is null)
        {
            var installed = store.List().Select(m => m.Model).ToHashSet();
            var g = FeatureLayer.For(MetricGroup.Fid);
            var k = FeatureLayer.For(MetricGroup.Pr);
            gaussian = installed.Contains(g.Network) ? g : null;
            knn = installed.Contains(k.Network) ? k : null;
            if (gaussian is null && knn is null)
                throw InputException.For(path, $"{ModelStore.ImageSourceKind(path)}, read as a set of images; images need a feature network and none is installed in {store.Directory} " +
                    "(run: genmetrics models install inception, and vgg16 for precision/recall), or give a .npy/.npz of features instead");
        }
        else
        {
            gaussian = gaussianGroups!.Count > 0 ? FeatureLayer.For(gaussianGroups[0]) : null;
            knn = knnGroups!.Count > 0 ? FeatureLayer.For(knnGroups[0]) : null;
        }
        if (gaussian is null && knn is null) throw new InputException($"{path}: no metric asked that images can serve");
        if (knn is not null && knnLayer is not null) knn = knn with { Layer = knnLayer };
        // Before any image is read: a missing model is one line that says the input is read as images and what that needs.
        if (gaussian is not null && KnownModel.Find(gaussian.Network) is { } g0) store.RequireForImages(path, g0, "FID and KID");
        if (knn is not null && KnownModel.Find(knn.Network) is { } k0) store.RequireForImages(path, k0, "precision/recall, density/coverage and symmetric P/R");
        var gaussianFeatures = gaussian is null ? null : Run(gaussian);
        var knnFeatures = knn is null ? null : knn == gaussian ? gaussianFeatures : Run(knn);
        return MetricInput.FromImages(path, gaussianFeatures, knnFeatures, provenance);
    }

    static bool IsKnn(MetricGroup g) => MetricRegistry.Get(g).DefaultK is not null;
}
