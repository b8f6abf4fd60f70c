using System.Security.Cryptography;
using System.Text;
using GenMetrics.Cuda.Interop;

namespace GenMetrics.Cuda;

/// <summary>
/// Compiled kernel images on disk, so NVRTC runs once per (source, options, device arch, driver, NVRTC).
/// Location: $XDG_CACHE_HOME/genmetrics/kernels, else ~/.cache/genmetrics/kernels. A file is written to a
/// temporary name and moved into place, so a concurrent run never loads half a file.
/// </summary>
public sealed class KernelCache(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>The default cache directory for this user.</summary>
    public static string DefaultDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "genmetrics", "kernels");
    }

    /// <summary>
    /// A hex key that changes with anything that changes the compiled image: the source text, the compile
    /// options, the target arch, the driver version and the compiler version.
    /// </summary>
    public static string Key(string source, IReadOnlyList<string> options, string arch, int driverVersion, string compilerVersion)
    {
        var text = new StringBuilder();
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        void Part(string s) => text.Append(s.Length).Append(':').Append(s).Append('\n');
        Part(source);
        Part(options.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var o in options) Part(o);
        Part(arch);
        Part(driverVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Part(compilerVersion);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public string PathFor(string kernelFile, string arch, string key, bool cubin) =>
        Path.Combine(Directory, $"{Path.GetFileNameWithoutExtension(kernelFile)}-{arch}-{key[..16]}.{(cubin ? "cubin" : "ptx")}");

    /// <summary>The cached image, or the result of <paramref name="compile"/> stored for next time.</summary>
    public byte[] GetOrCompile(string path, Func<byte[]> compile)
    {
        try
        {
            if (File.Exists(path))
            {
                var cached = File.ReadAllBytes(path);
                if (cached.Length > 0) return cached;
            }
        }
        catch (IOException)
        {
            // An unreadable cache entry is rebuilt below.
        }
        var image = compile();
        TryStore(path, image);
        return image;
    }

    private static void TryStore(string path, byte[] image)
    {
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        using var tracked = TempFiles.Track(temp);
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temp, image);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only home still runs; it only recompiles next time.
            try { File.Delete(temp); } catch (IOException) { }
        }
    }
}
