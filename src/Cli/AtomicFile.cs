namespace GenMetrics.Cli;

/// <summary>Writes a file through a temporary sibling and a rename, so that a failed run never leaves half a file.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir))
            throw new InputException($"{path}: the folder {dir} does not exist");
        string temp = full + $".tmp{Environment.ProcessId}";
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, full, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InputException($"{path}: cannot write ({e.Message})");
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
