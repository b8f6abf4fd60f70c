using System.Runtime.InteropServices;
using GenMetrics.Imaging;
using GenMetrics.Models;

namespace GenMetrics.Native;

/// <summary>
/// genmetrics_image_features(): features of a folder or .zip of images through the engine's own pipeline
/// (<see cref="ImageFeatureExtractor"/>: decode, resize as the chosen reference tool does, the ONNX feature
/// network, the feature cache), as `genmetrics metrics FOLDER ...` computes them. The result is a buffer the
/// library allocates and genmetrics_feature_matrix_free() releases.
/// </summary>
public static unsafe class ImageExports
{
    [UnmanagedCallersOnly(EntryPoint = "genmetrics_image_features")]
    public static NativeStatus ImageFeatures(nint context, byte* path, byte* network, byte* layer, byte* mode, NativeFeatureMatrix** output)
    {
        try
        {
            LastError.Clear();
            NativeContexts.Get(context);
            Exports.RequireOutput(output, "out");
            if (path == null) throw new NativeArgumentException("path is NULL");
            string folder = Marshal.PtrToStringUTF8((nint)path) ?? "";
            string networkName = network == null ? "inception" : Marshal.PtrToStringUTF8((nint)network) ?? "inception";
            string? output_ = layer == null ? null : Marshal.PtrToStringUTF8((nint)layer);
            var resize = mode == null ? ResizeMode.Clean : ImagePreprocessor.ParseMode(Marshal.PtrToStringUTF8((nint)mode) ?? "clean");
            if (!File.Exists(folder) && !Directory.Exists(folder)) throw InputException.For(folder, "no such file or folder");

            NativeLibraries.EnsureResolver();
            using IFeatureNetwork net = OpenNetwork(networkName, output_);
            var features = new ImageFeatureExtractor().Extract(folder, new ImagePipelineOptions { Mode = resize }, net);

            long count = (long)features.Rows * features.Dim;
            var result = (NativeFeatureMatrix*)NativeMemory.Alloc((nuint)sizeof(NativeFeatureMatrix));
            result->Data = (float*)NativeMemory.Alloc((nuint)Math.Max(1, count), sizeof(float));
            result->Rows = features.Rows;
            result->Dim = features.Dim;
            features.Data.AsSpan(0, (int)count).CopyTo(new Span<float>(result->Data, (int)count));
            *output = result;
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_feature_matrix_free")]
    public static void FeatureMatrixFree(NativeFeatureMatrix* matrix)
    {
        if (matrix == null) return;
        NativeMemory.Free(matrix->Data);
        NativeMemory.Free(matrix);
    }

    /// <summary>"inception" (pool3 by default), "vgg16" (fc2_relu by default), or the path of an .onnx file (layer required).</summary>
    private static IFeatureNetwork OpenNetwork(string name, string? layer)
    {
        if (KnownModel.Find(name) is { } known) return ModelStore.Default().Open(known, layer);
        if (name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(name)) throw InputException.For(name, "no such file");
            if (string.IsNullOrEmpty(layer)) throw new NativeArgumentException($"layer is NULL: an ONNX network ({name}) needs the name of its output tensor");
            return OnnxFeatureNetwork.Load(name, layer);
        }
        throw new NativeArgumentException($"network '{name}' is not inception, vgg16 or a path to an .onnx file");
    }
}

/// <summary>genmetrics_feature_matrix: rows x dim float32 values, row-major, allocated by the library.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NativeFeatureMatrix
{
    public float* Data;
    public long Rows;
    public long Dim;
}

/// <summary>
/// In the NativeAOT library, ONNX Runtime's and Skia's native libraries (libonnxruntime.so,
/// libSkiaSharp.so) are looked for first beside libgenmetrics itself, then where the system looks: the
/// process is the caller's (python3, a C program), whose own folder does not hold them.
/// </summary>
internal static unsafe partial class NativeLibraries
{
    private static int s_installed;

    public static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref s_installed, 1) != 0) return;
        string? folder = OwnFolder();
        if (folder is null) return;
        DllImportResolver resolver = (name, assembly, searchPath) =>
        {
            foreach (var candidate in new[] { name, "lib" + name + ".so", name + ".so" })
            {
                string path = Path.Combine(folder, candidate);
                if (File.Exists(path) && NativeLibrary.TryLoad(path, out nint handle)) return handle;
            }
            return 0;
        };
        TrySet(typeof(Microsoft.ML.OnnxRuntime.OrtEnv).Assembly, resolver);
        TrySet(typeof(SkiaSharp.SKBitmap).Assembly, resolver);
    }

    private static void TrySet(System.Reflection.Assembly assembly, DllImportResolver resolver)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, resolver);
        }
        catch (InvalidOperationException)
        {
            // Someone already set one for this assembly: theirs stands.
        }
    }

    /// <summary>The folder of the loaded library holding this code (dladdr of one of its exports).</summary>
    private static string? OwnFolder()
    {
        nint self = (nint)(delegate* unmanaged<int>)&Exports.GetApiVersion;
        if (DlAddr(self, out var info) == 0 || info.FileName == 0) return null;
        string? file = Marshal.PtrToStringUTF8(info.FileName);
        return string.IsNullOrEmpty(file) ? null : Path.GetDirectoryName(Path.GetFullPath(file));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public nint FileName;
        public nint FileBase;
        public nint SymbolName;
        public nint SymbolAddress;
    }

    [LibraryImport("libc", EntryPoint = "dladdr")]
    private static partial int DlAddr(nint address, out DlInfo info);
}
