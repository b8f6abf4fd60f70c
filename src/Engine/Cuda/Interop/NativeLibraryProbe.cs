using System.Runtime.InteropServices;

namespace GenMetrics.Cuda.Interop;

/// <summary>
/// Finds one of several versioned names of a native library (newest first) and remembers what was tried,
/// so that "CUDA unavailable" can say exactly which files were looked for and why each failed.
/// </summary>
internal sealed class NativeLibraryProbe
{
    private NativeLibraryProbe(string purpose, nint handle, string? loadedName, IReadOnlyList<string> attempts)
    {
        Purpose = purpose;
        Handle = handle;
        LoadedName = loadedName;
        Attempts = attempts;
    }

    /// <summary>What the library is for ("CUDA driver", "NVRTC", "cuBLAS").</summary>
    public string Purpose { get; }

    public nint Handle { get; }

    /// <summary>The name that loaded, or null.</summary>
    public string? LoadedName { get; }

    /// <summary>Each name tried and the outcome ("libnvrtc.so.13: not found").</summary>
    public IReadOnlyList<string> Attempts { get; }

    public bool IsLoaded => Handle != 0;

    /// <summary>"no NVRTC library (tried libnvrtc.so.13: not found, libnvrtc.so.12: not found)".</summary>
    public string FailureMessage => $"no {Purpose} library (tried {string.Join(", ", Attempts)})";

    /// <summary>Library names to try, newest first, for this operating system.</summary>
    public static IReadOnlyList<string> CandidateNames(string baseName, IReadOnlyList<string> versions)
    {
        var names = new List<string>();
        if (OperatingSystem.IsWindows())
        {
            // The Windows toolkit names DLLs "nvrtc64_120_0.dll", "cublas64_12.dll"; the driver is nvcuda.dll.
            if (baseName == "cuda") return ["nvcuda.dll"];
            foreach (var v in versions)
                names.Add(baseName == "nvrtc" ? $"nvrtc64_{v}0_0.dll" : $"{baseName}64_{v}.dll");
            return names;
        }
        foreach (var v in versions) names.Add($"lib{baseName}.so.{v}");
        return names;
    }

    /// <summary>
    /// Tries each name in order through <paramref name="tryLoad"/> (NativeLibrary.TryLoad unless a test
    /// substitutes it). <paramref name="skipped"/>: names deliberately not tried, with the reason
    /// ("libcublas.so.13: skipped (...)"), listed first among the attempts.
    /// </summary>
    public static NativeLibraryProbe Load(string purpose, IReadOnlyList<string> names, Func<string, nint>? tryLoad = null,
        IEnumerable<string>? skipped = null)
    {
        tryLoad ??= static name => NativeLibrary.TryLoad(name, out var h) ? h : 0;
        var attempts = new List<string>(skipped ?? []);
        foreach (var name in names)
        {
            nint handle;
            try
            {
                handle = tryLoad(name);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                attempts.Add($"{name}: {e.Message}");
                continue;
            }
            if (handle != 0)
            {
                attempts.Add($"{name}: loaded");
                return new NativeLibraryProbe(purpose, handle, name, attempts);
            }
            attempts.Add($"{name}: not found");
        }
        return new NativeLibraryProbe(purpose, 0, null, attempts);
    }

    /// <summary>The address of the first of <paramref name="symbols"/> that the library exports.</summary>
    public nint Export(params string[] symbols)
    {
        foreach (var s in symbols)
            if (NativeLibrary.TryGetExport(Handle, s, out var address)) return address;
        throw new EntryPointNotFoundException($"{LoadedName} exports none of {string.Join(", ", symbols)} (library too old?)");
    }

    /// <summary>Like <see cref="Export"/> but 0 when absent (optional functions).</summary>
    public nint OptionalExport(params string[] symbols)
    {
        foreach (var s in symbols)
            if (NativeLibrary.TryGetExport(Handle, s, out var address)) return address;
        return 0;
    }
}
