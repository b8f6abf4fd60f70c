using GenMetrics.Evaluation;
using GenMetrics.Features;

namespace GenMetrics.Cli;

/// <summary>Turns a command-line path into a metric input: a .npy/.npz of features or of statistics.</summary>
internal static class InputLoader
{
    public static MetricInput Load(string path, string? key, CommandContext context)
    {
        var input = FeatureFiles.Open(path, key);
        switch (input)
        {
            case StatisticsInput stats:
                return MetricInput.FromStatistics(stats.Statistics);
            case FeatureFileInput file:
                var matrix = file.Load(context.Progress.Start($"reading {Path.GetFileName(path)}"));
                context.Progress.Clear();
                // float64 files keep their exact values for FID's statistics; the k-NN metrics use float32.
                return MetricInput.FromFeatures(matrix, file.DType == "float64" ? file : null);
            default:
                throw new InputException($"{path}: unsupported input");
        }
    }

    public static FeatureMatrix LoadFeatures(string path, string? key, CommandContext context)
    {
        var input = Load(path, key, context);
        return input.Features ?? throw new InputException($"{path}: holds statistics (mu, sigma), not per-sample features");
    }
}
