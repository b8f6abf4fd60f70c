using System.Text;

namespace GenMetrics.Cuda;

/// <summary>The CUDA C kernels embedded in the engine assembly (kernels/*.cu, logical name kernels/NAME.cu).</summary>
public static class KernelSources
{
    public const string KnnSmallestDistances = "knn_smallest_distances.cu";
    public const string CrossDistanceReductions = "cross_distance_reductions.cu";
    public const string FeaturePreparation = "feature_preparation.cu";

    /// <summary>Every kernel file the backend compiles.</summary>
    public static IReadOnlyList<string> All { get; } = [KnnSmallestDistances, CrossDistanceReductions, FeaturePreparation];

    /// <summary>
    /// The source text of kernels/<paramref name="fileName"/>, with each <c>#include "NAME.cuh"</c> line replaced by
    /// the embedded kernels/NAME.cuh (once per name, as its #pragma once asks): NVRTC gets one self-contained
    /// source, and the kernel cache key covers the shared code too.
    /// </summary>
    public static string Read(string fileName) => Inline(fileName, new HashSet<string>(StringComparer.Ordinal));

    private static string Inline(string fileName, HashSet<string> included)
    {
        var text = new StringBuilder();
        foreach (var line in ReadResource(fileName).Split('\n'))
        {
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("#include \"", StringComparison.Ordinal))
            {
                string name = trimmed["#include \"".Length..].TrimEnd().TrimEnd('"');
                if (!name.EndsWith(".cuh", StringComparison.Ordinal))
                    throw new InvalidOperationException($"kernels/{fileName}: only kernels/*.cuh may be included, not {name}");
                if (included.Add(name)) text.Append(Inline(name, included)).Append('\n');
                continue;
            }
            if (trimmed.StartsWith("#pragma once", StringComparison.Ordinal)) continue;
            text.Append(line).Append('\n');
        }
        return text.ToString();
    }

    private static string ReadResource(string fileName)
    {
        var assembly = typeof(KernelSources).Assembly;
        using var stream = assembly.GetManifestResourceStream("kernels/" + fileName)
            ?? throw new InvalidOperationException($"kernel source kernels/{fileName} is not embedded in {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
