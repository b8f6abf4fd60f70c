using System.Runtime.InteropServices;

namespace GenMetrics.Native;

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
