using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace GenMetrics.Imaging;

/// <summary>
/// Features of an image collection stored as <c>KEY.npy</c> (float32 [rows, dim]) plus <c>KEY.skipped.txt</c>
/// (the files that could not be decoded, one "path\treason" per line). Both are written to a temporary
/// name and moved into place, the .npy last, so a killed run leaves no entry that looks complete.
/// </summary>
public sealed class FeatureCache
{
    public FeatureCache(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>$GENMETRICS_HOME/cache/features, else $XDG_CACHE_HOME/genmetrics/features, else ~/.cache/genmetrics/features.</summary>
    public static string DefaultDirectory
    {
        get
        {
            var home = Environment.GetEnvironmentVariable("GENMETRICS_HOME");
            if (!string.IsNullOrEmpty(home)) return Path.Combine(home, "cache", "features");
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "genmetrics", "features");
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "genmetrics", "features");
        }
    }

    /// <summary>
    /// SHA-256 over everything that determines the features: the network's content hash, the
    /// preprocessing, the container and every listed file's relative path, size and mtime (zip: CRC-32).
    /// </summary>
    public static string Key(string networkKey, ImagePreprocessor preprocessor, ImageCollection collection)
    {
        var text = new StringBuilder();
        text.Append("genmetrics-features-v1\n");
        text.Append("network=").Append(networkKey).Append('\n');
        text.Append("decoders=").Append(StbImageDecoder.Version).Append('\n');
        text.Append("resize=").Append(ImagePreprocessor.ModeName(preprocessor.Mode)).Append('\n');
        text.Append("size=").Append(preprocessor.Width).Append('x').Append(preprocessor.Height).Append('\n');
        // Entries written before the double-precision source index (issue 12) hold torch-inexact features.
        if (preprocessor.Mode == ResizeMode.LegacyPyTorch) text.Append("pytorch-source-index=double\n");
        // Entries written before the clean weights used Pillow's x · (1/filterscale) may differ in the last bit on downscales.
        if (preprocessor.Mode == ResizeMode.Clean) text.Append("pil-weights=inverse-scale\n");
        if (preprocessor.Normalization is { } n) text.Append("normalize=").Append(n.Name).Append('\n');
        if (preprocessor.CenterCrop) text.Append("resize=center-crop\n");
        text.Append("source=").Append(collection.SourceStamp).Append('\n');
        foreach (var e in collection.Entries)
            text.Append(e.RelativePath).Append('\t').Append(e.Length).Append('\t').Append(e.ContentStamp).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public bool TryLoad(string key, out float[] data, out int rows, out int dim, out IReadOnlyList<string> skipped)
    {
        data = [];
        rows = dim = 0;
        skipped = [];
        var npy = Path.Combine(Directory, key + ".npy");
        var skippedPath = Path.Combine(Directory, key + ".skipped.txt");
        if (!File.Exists(npy) || !File.Exists(skippedPath)) return false;
        try
        {
            var bytes = File.ReadAllBytes(npy);
            if (!TryParseNpy(bytes, out data, out rows, out dim)) return false;
            skipped = File.ReadAllLines(skippedPath, Encoding.UTF8).Where(l => l.Length > 0).ToArray();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Store(string key, float[] data, int rows, int dim, IReadOnlyList<string> skipped)
    {
        System.IO.Directory.CreateDirectory(Directory);
        WriteAtomically(Path.Combine(Directory, key + ".skipped.txt"), Encoding.UTF8.GetBytes(string.Concat(skipped.Select(s => s + "\n"))));
        WriteAtomically(Path.Combine(Directory, key + ".npy"), EncodeNpy(data, rows, dim));
    }

    static void WriteAtomically(string path, byte[] bytes)
    {
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        using var tracked = TempFiles.Track(temp);
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    // Not a u8 string literal: "\x93" would be UTF-8 encoded as two bytes.
    static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    static byte[] EncodeNpy(float[] data, int rows, int dim)
    {
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}";
        int total = 10 + header.Length + 1;
        int padded = (total + 63) / 64 * 64;
        header = header.PadRight(padded - 10 - 1) + "\n";
        var bytes = new byte[10 + header.Length + 4L * rows * dim];
        NpyMagic.CopyTo(bytes);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        var body = bytes.AsSpan(10 + header.Length);
        for (long i = 0; i < (long)rows * dim; i++) BinaryPrimitives.WriteSingleLittleEndian(body.Slice((int)(4 * i)), data[i]);
        return bytes;
    }

    // Reads back only what EncodeNpy writes; anything else is treated as a cache miss.
    static bool TryParseNpy(byte[] bytes, out float[] data, out int rows, out int dim)
    {
        data = [];
        rows = dim = 0;
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(NpyMagic) || bytes[6] != 1) return false;
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        if (10 + headerLength > bytes.Length) return false;
        var header = Encoding.Latin1.GetString(bytes, 10, headerLength);
        if (!header.Contains("'descr': '<f4'") || !header.Contains("'fortran_order': False")) return false;
        var match = System.Text.RegularExpressions.Regex.Match(header, @"'shape': \((\d+), (\d+)\)");
        if (!match.Success || !int.TryParse(match.Groups[1].Value, out rows) || !int.TryParse(match.Groups[2].Value, out dim)) return false;
        long count = (long)rows * dim;
        if (bytes.Length != 10 + headerLength + 4 * count || dim <= 0) return false;
        data = new float[count];
        for (long i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(10 + headerLength + 4 * i)));
        return true;
    }
}
