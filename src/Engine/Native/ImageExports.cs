using System.Runtime.InteropServices;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Imaging;

namespace GenMetrics.Native;

/// <summary>
/// The image part of include/genmetrics.h: features and statistics of a folder or .zip of images through
/// the engine's pipeline (<see cref="ImageFeatures"/>). Strict: a corrupt image is GENMETRICS_E_INPUT naming
/// the file (a library caller has no notice channel, so nothing is skipped silently). Cached like the CLI.
/// </summary>
public static unsafe class ImageExports
{
    [UnmanagedCallersOnly(EntryPoint = "genmetrics_features_from_images")]
    public static NativeStatus FeaturesFromImages(nint context, byte* path, byte* network, byte* layer, byte* mode,
        float** outData, long* outRows, long* outDim)
    {
        try
        {
            LastError.Clear();
            NativeContexts.Get(context);
            if (outData == null) throw new NativeArgumentException("out_data is NULL");
            if (outRows == null) throw new NativeArgumentException("out_rows is NULL");
            if (outDim == null) throw new NativeArgumentException("out_dim is NULL");
            *outData = null;
            var features = Extract(path, network, layer, mode, FeatureLayer.InceptionPool3);
            long count = (long)features.Rows * features.Dim;
            var buffer = (float*)NativeMemory.Alloc((nuint)count, sizeof(float));
            features.Data.AsSpan(0, (int)count).CopyTo(new Span<float>(buffer, (int)count));
            *outData = buffer;
            *outRows = features.Rows;
            *outDim = features.Dim;
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_features_free")]
    public static void FreeFeatures(float* data) => NativeMemory.Free(data);

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_statistics_from_images")]
    public static NativeStatus StatisticsFromImages(nint context, byte* path, byte* network, byte* layer, byte* mode,
        double* outMu, double* outSigma, long dimCapacity, long* outDim, long* outCount)
    {
        try
        {
            LastError.Clear();
            var ctx = NativeContexts.Get(context);
            if (outMu == null) throw new NativeArgumentException("out_mu is NULL");
            if (outSigma == null) throw new NativeArgumentException("out_sigma is NULL");
            if (outDim == null) throw new NativeArgumentException("out_dim is NULL");
            var features = Extract(path, network, layer, mode, FeatureLayer.For(MetricGroup.Fid));
            *outDim = features.Dim;
            if (dimCapacity < features.Dim)
                throw new NativeArgumentException($"dim_capacity is {dimCapacity}, the features have dim {features.Dim} (*out_dim says so; out_sigma needs dim x dim)");
            if (features.Rows < 2) throw InputException.For(features.Name, $"{features.Rows} image(s), a covariance needs at least 2");
            GaussianStatistics stats;
            lock (ctx.Gate) stats = ctx.Backend.ComputeStatistics(features, CovarianceDivisor.NMinusOne);
            stats.Mean.CopyTo(new Span<double>(outMu, stats.Dim));
            stats.Covariance.CopyTo(new Span<double>(outSigma, stats.Dim * stats.Dim));
            if (outCount != null) *outCount = features.Rows;
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    static FeatureMatrix Extract(byte* path, byte* network, byte* layer, byte* mode, FeatureLayer standard)
    {
        string source = path == null ? throw new NativeArgumentException("path is NULL") : Marshal.PtrToStringUTF8((nint)path)!;
        string? layerName = layer == null ? null : Marshal.PtrToStringUTF8((nint)layer);
        var chosen = network != null ? FeatureLayer.Parse(Marshal.PtrToStringUTF8((nint)network)!, layerName)
            : layerName != null ? standard with { Layer = layerName } : standard;
        var options = new ImagePipelineOptions
        {
            Mode = mode == null ? ResizeMode.Clean : ImagePreprocessor.ParseMode(Marshal.PtrToStringUTF8((nint)mode)!),
            Strict = true,
        };
        NativeLibraries.EnsureResolver();
        var features = ImageFeatures.Extract(source, chosen, options).Features;
        return new FeatureMatrix(features.Data, features.Rows, features.Dim, source);
    }
}
