namespace GenMetrics.Cuda;

/// <summary>The CUDA C kernels embedded in the engine assembly (kernels/*.cu, logical name kernels/NAME.cu).</summary>
public static class KernelSources
{
    public const string KnnSmallestDistances = "knn_smallest_distances.cu";
    public const string CrossDistanceReductions = "cross_distance_reductions.cu";
    public const string FeaturePreparation = "feature_preparation.cu";

    /// <summary>Every kernel file the backend compiles.</summary>
    public static IReadOnlyList<string> All { get; } = [KnnSmallestDistances, CrossDistanceReductions, FeaturePreparation];

    /// <summary>The source text of kernels/<paramref name="fileName"/>.</summary>
    public static string Read(string fileName)
    {
        var assembly = typeof(KernelSources).Assembly;
        using var stream = assembly.GetManifestResourceStream("kernels/" + fileName)
            ?? throw new InvalidOperationException($"kernel source kernels/{fileName} is not embedded in {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
