namespace GenMetrics.Cli;

/// <summary>
/// Every output path of every command is checked here before any work starts: the folder exists (or, for
/// folder outputs, can be created), a file can be created in it, the extension fits the format written,
/// and the output is not one of the inputs (compared after resolving symbolic links, so `-o fake.npy`
/// and a link to fake.npy are both refused). Writing that still fails at the end does not lose the
/// result: text goes to stdout, binary files to a rescue copy in the temp folder, and the error says so.
/// </summary>
public static class OutputPaths
{
    /// <summary>
    /// Checks a file output given by <paramref name="option"/> (e.g. "--json", "-o"). Null means the option
    /// was not given; "-" is stdout when <paramref name="allowStdout"/>.
    /// </summary>
    public static void CheckFile(string? path, string option, IReadOnlyList<string> extensions, IEnumerable<string?> inputs, bool allowStdout = false)
    {
        if (path is null || (allowStdout && path == "-")) return;
        string full = FullPath(path, option);
        if (Directory.Exists(full))
            throw InputException.For(path, $"{option}: is a folder; give a file name ending in {string.Join(" or ", extensions)}");
        if (extensions.Count > 0 && !extensions.Any(e => full.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            throw InputException.For(path, $"{option} writes {Describe(extensions)}: the file name must end in {string.Join(" or ", extensions)}");
        string folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder))
            throw InputException.For(path, $"{option}: the folder {folder} does not exist (create it first)");
        ProbeWritable(folder, path, option);
        RefuseInputs(full, path, option, inputs);
    }

    /// <summary>
    /// Checks (and creates, when missing) a folder output that will receive <paramref name="files"/>
    /// (names relative to it; a "*" stands for any name), none of which may be an input.
    /// </summary>
    public static void CheckFolder(string? path, string option, IEnumerable<string> files, IEnumerable<string?> inputs)
    {
        if (path is null) return;
        string full = FullPath(path, option);
        if (File.Exists(full)) throw InputException.For(path, $"{option}: is a file; {option} takes a folder");
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"{option}: cannot create the folder ({IoErrors.Describe(e)})");
        }
        ProbeWritable(full, path, option);
        var inputList = inputs.ToList();
        foreach (var name in files)
        {
            if (name.Contains('*'))
            {
                // Any file of this pattern: refuse when an input sits in the folder under such a name.
                foreach (var input in inputList.OfType<string>())
                {
                    string real = RealPath(Path.GetFullPath(input));
                    if (string.Equals(Path.GetDirectoryName(real), RealPath(full), StringComparison.Ordinal)
                        && System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(name, Path.GetFileName(real)))
                        throw InputException.For(path, $"{option}: would overwrite the input {input} ({name} files are written there); choose another folder");
                }
                continue;
            }
            RefuseInputs(Path.Combine(full, name), path, option, inputList);
        }
    }

    /// <summary>
    /// Writes <paramref name="text"/> to <paramref name="path"/>; if that fails after all, the text goes to
    /// stdout so the result is not lost, and the error (exit 2) says where it went.
    /// </summary>
    public static void WriteText(string path, string text, CommandContext context)
    {
        try
        {
            AtomicFile.WriteAllText(path, text);
        }
        catch (InputException e)
        {
            context.Out.Write(text);
            context.Out.Flush();
            throw new InputException($"{e.Message}; the result was printed to stdout instead", e);
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> on <paramref name="path"/>; if that fails after all, writes the same
    /// content to a rescue file in the temp folder and names it in the error (exit 2).
    /// </summary>
    public static void Save(string path, Action<string> write, CommandContext context)
    {
        try
        {
            write(path);
        }
        catch (InputException e)
        {
            string rescue = Path.Combine(Path.GetTempPath(), $"genmetrics-rescue-{Guid.NewGuid():N}", Path.GetFileName(path));
            bool rescued;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(rescue)!);
                write(rescue);
                rescued = true;
            }
            catch (Exception r) when (r is InputException or IOException or UnauthorizedAccessException)
            {
                rescued = false;
            }
            if (!rescued) throw;
            throw new InputException($"{e.Message}; the result was saved to {rescue} instead", e);
        }
    }

    static string FullPath(string path, string option)
    {
        if (path.Length == 0) throw new InputException($"{option}: empty path");
        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw InputException.For(path, $"{option}: invalid path ({e.Message})");
        }
    }

    // Creating a file is the only honest test of "writable" (permissions, read-only mounts, /proc, ACLs).
    static void ProbeWritable(string folder, string path, string option)
    {
        string probe = Path.Combine(folder, $".genmetrics-write-test-{Guid.NewGuid():N}.tmp");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"{option}: cannot write in {folder} ({IoErrors.NotWritable(e)})");
        }
        finally
        {
            try { File.Delete(probe); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    static void RefuseInputs(string fullOutput, string shown, string option, IEnumerable<string?> inputs)
    {
        string output = RealPath(fullOutput);
        foreach (var input in inputs)
        {
            if (string.IsNullOrEmpty(input) || input == "-") continue;
            string real;
            try { real = RealPath(Path.GetFullPath(input)); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { continue; }
            if (string.Equals(real, output, StringComparison.Ordinal))
                throw InputException.For(shown, $"{option}: is the input {input}{(real != Path.GetFullPath(input) ? $" (through a link to {real})" : "")}; writing would overwrite it: choose another name");
        }
    }

    /// <summary>The path with every symbolic link along it resolved (what realpath(3) gives for existing parts).</summary>
    internal static string RealPath(string fullPath)
    {
        string root = Path.GetPathRoot(fullPath) ?? "/";
        string current = root;
        var parts = fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            string next = Path.Combine(current, parts[i]);
            for (int hops = 0; hops < 40; hops++)
            {
                FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
                string? target;
                try { target = info.LinkTarget; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { target = null; }
                if (target is null) break;
                next = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(current, target));
                next = RealPathOfParent(next);
            }
            current = next;
        }
        return current;
    }

    static string RealPathOfParent(string path)
    {
        string? parent = Path.GetDirectoryName(path);
        return parent is null ? path : Path.Combine(RealPath(parent), Path.GetFileName(path));
    }

    static string Describe(IReadOnlyList<string> extensions) => extensions[0].ToLowerInvariant() switch
    {
        ".json" => "JSON",
        ".npz" => "an .npz (numpy's zip of arrays)",
        ".npy" => "an .npy array",
        ".png" => "a PNG image",
        ".mp4" => "an MP4 video",
        _ => $"a {extensions[0]} file",
    };
}
