namespace GenMetrics;

/// <summary>
/// Writes a whole file or nothing: a temp file in the destination folder (same file system, so the move
/// is a rename), then a move over the target. The temp file is registered with <see cref="TempFiles"/>,
/// so Ctrl-C or SIGTERM removes it; only a SIGKILL can leave a hidden ".tmp" file behind, and never a
/// half-written image that a later step would read as valid.
/// </summary>
internal static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath;
        try { fullPath = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw InputException.For(path, $"invalid output path ({e.Message})");
        }
        var folder = Path.GetDirectoryName(fullPath) ?? ".";
        var temp = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        using var tracked = TempFiles.Track(temp);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                stream.Write(content);
            File.Move(temp, fullPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw InputException.For(path, $"cannot write ({IoErrors.Describe(e)})");
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    private static void TryDelete(string temp)
    {
        try { File.Delete(temp); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
