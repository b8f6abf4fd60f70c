using System.IO.Compression;

namespace GenMetrics.Imaging;

/// <summary>One image of a folder or zip: its path relative to the root ('/'-separated), and what identifies its content.</summary>
public sealed record ImageEntry(string RelativePath, long Length, string ContentStamp);

/// <summary>
/// The images of a directory (recursive) or a .zip archive, sorted ordinally by relative path so that
/// every run, on every OS, sees the same order; or of an image list (a .txt file, one path per line,
/// relative to the list's folder or absolute), in the order listed. Reads file bytes on demand; safe
/// for concurrent reads.
/// </summary>
public sealed class ImageCollection : IDisposable
{
    readonly string? directory;
    readonly string? listDirectory;
    readonly ZipArchive? zip;
    readonly Dictionary<string, ZipArchiveEntry>? zipEntries;
    readonly object zipLock = new();

    ImageCollection(string source, string? directory, ZipArchive? zip, Dictionary<string, ZipArchiveEntry>? zipEntries,
        IReadOnlyList<ImageEntry> entries, string sourceStamp, string? listDirectory = null)
    {
        Source = source;
        this.directory = directory;
        this.listDirectory = listDirectory;
        this.zip = zip;
        this.zipEntries = zipEntries;
        Entries = entries;
        SourceStamp = sourceStamp;
    }

    /// <summary>The directory or zip path as given.</summary>
    public string Source { get; }

    public IReadOnlyList<ImageEntry> Entries { get; }

    /// <summary>What identifies the container itself (for a zip: its size and mtime); part of cache keys.</summary>
    public string SourceStamp { get; }

    /// <summary>Files that were not read because no decoder takes their extension: extension ("" for none) → count.</summary>
    public IReadOnlyDictionary<string, int> LeftOut { get; private init; } = new Dictionary<string, int>();

    /// <summary>"left out 3 files that are not images (2 .txt, 1 .json)", or null when nothing was left out.</summary>
    public string? LeftOutSummary => Describe(LeftOut);

    /// <summary>Entries every reader skips, folder or archive alike: see <see cref="ArchiveEntries.IsHidden"/>.</summary>
    public static bool IsHidden(string relativePath) => ArchiveEntries.IsHidden(relativePath);

    static string? Describe(IReadOnlyDictionary<string, int> leftOut)
    {
        if (leftOut.Count == 0) return null;
        int total = leftOut.Values.Sum();
        var parts = leftOut.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Length == 0).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Value} {(p.Key.Length == 0 ? "without extension" : p.Key)}");
        return $"left out {total} file{(total == 1 ? "" : "s")} that {(total == 1 ? "is" : "are")} not a readable image type ({string.Join(", ", parts)})";
    }

    static void Count(Dictionary<string, int> leftOut, string name)
    {
        string ext = Path.GetExtension(name).ToLowerInvariant();
        leftOut[ext] = leftOut.GetValueOrDefault(ext) + 1;
    }

    /// <summary>True for a path that names an image list: a .txt file (one image path per line).</summary>
    public static bool IsList(string path) => path.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(path);

    /// <summary>
    /// Lists the images under <paramref name="path"/> with one of <paramref name="extensions"/>
    /// (case-insensitive); <paramref name="maxImages"/> &gt; 0 keeps the first N in sorted order.
    /// For an image list (<see cref="IsList"/>) every non-blank line must name an existing file with one
    /// of the extensions, at most once; otherwise the error names the list's line. Order is as listed.
    /// </summary>
    public static ImageCollection Open(string path, IReadOnlyList<string> extensions, int maxImages = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        var wanted = new HashSet<string>(extensions, StringComparer.OrdinalIgnoreCase);
        bool Wanted(string name) => wanted.Contains(Path.GetExtension(name));

        ImageCollection collection;
        var leftOut = new Dictionary<string, int>(StringComparer.Ordinal);
        if (IsList(path))
        {
            if (!File.Exists(path)) throw InputException.For(path, "no such image list");
            collection = OpenList(path, Wanted, extensions, maxImages);
        }
        else if (Directory.Exists(path))
        {
            var root = Path.GetFullPath(path);
            var entries = new List<ImageEntry>();
            foreach (var file in Directory.EnumerateFiles(root, "*", new EnumerationOptions
            {
                RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
            }))
            {
                var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (IsHidden(relative)) continue;
                if (!Wanted(file))
                {
                    Count(leftOut, file);
                    continue;
                }
                var info = new FileInfo(file);
                entries.Add(new ImageEntry(relative, info.Length, info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            entries.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
            collection = new ImageCollection(path, root, null, null, Truncate(entries, maxImages), "dir") { LeftOut = leftOut };
        }
        else if (File.Exists(path) && path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            ZipArchive? opened = null;
            try
            {
                opened = ZipFile.OpenRead(path);
                // The central directory is read here: a damaged one must be an input error, not a crash below.
                _ = opened.Entries.Count;
            }
            catch (InvalidDataException e)
            {
                opened?.Dispose();
                throw InputException.For(path, $"not a readable zip archive ({IoErrors.Zip(e)})");
            }
            var archive = opened;
            var byName = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            var entries = new List<ImageEntry>();
            foreach (var e in archive.Entries)
            {
                if (e.FullName.EndsWith('/') || IsHidden(e.FullName)) continue;
                if (!Wanted(e.FullName))
                {
                    Count(leftOut, e.FullName);
                    continue;
                }
                if (byName.ContainsKey(e.FullName)) continue;
                byName[e.FullName] = e;
                // The zip's own CRC-32 is a content hash we get for free.
                entries.Add(new ImageEntry(e.FullName, e.Length, e.Crc32.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));
            }
            entries.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
            var info = new FileInfo(path);
            collection = new ImageCollection(path, null, archive, byName, Truncate(entries, maxImages),
                $"zip:{info.Length}:{info.LastWriteTimeUtc.Ticks}") { LeftOut = leftOut };
        }
        else if (File.Exists(path))
            throw InputException.For(path, "expected a directory of images or a .zip archive");
        else
            throw InputException.For(path, "no such directory or file");

        if (collection.Entries.Count == 0)
        {
            collection.Dispose();
            throw InputException.For(path, $"no images found (looked for {string.Join(", ", extensions)}){(collection.LeftOutSummary is { } l ? $"; {l}" : "")}");
        }
        return collection;
    }

    static ImageCollection OpenList(string path, Func<string, bool> wanted, IReadOnlyList<string> extensions, int maxImages)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot read the image list ({IoErrors.Describe(e)})");
        }
        var root = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var entries = new List<ImageEntry>();
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length && (maxImages <= 0 || entries.Count < maxImages); i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            string where = $"{path}:{i + 1}";
            var full = Path.GetFullPath(Path.IsPathRooted(line) ? line : Path.Combine(root, line));
            if (!wanted(full))
                throw InputException.For(where, $"{line} is not a readable image type (looked for {string.Join(", ", extensions)})");
            if (!File.Exists(full))
                throw InputException.For(where, Directory.Exists(full) ? $"{line} is a folder, not an image file" : $"no such file {line}");
            if (firstLine.TryGetValue(full, out int first))
                throw InputException.For(where, $"{line} is listed twice (first on line {first})");
            firstLine[full] = i + 1;
            var info = new FileInfo(full);
            // The entry's path is the full path, so that messages and the feature cache name the file itself.
            entries.Add(new ImageEntry(full.Replace(Path.DirectorySeparatorChar, '/'), info.Length,
                info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        return new ImageCollection(path, null, null, null, entries, "list", root);
    }

    /// <summary>True when the images come from an image list (rows in listed order, not sorted).</summary>
    public bool IsListed => listDirectory != null;

    static List<ImageEntry> Truncate(List<ImageEntry> entries, int maxImages) =>
        maxImages > 0 && entries.Count > maxImages ? entries.GetRange(0, maxImages) : entries;

    /// <summary>The encoded bytes of one entry. IO failures become an <see cref="InputException"/> naming the file.</summary>
    public byte[] ReadBytes(ImageEntry entry)
    {
        try
        {
            if (directory != null) return File.ReadAllBytes(Path.Combine(directory, entry.RelativePath));
            if (listDirectory != null) return File.ReadAllBytes(entry.RelativePath);
            lock (zipLock)
            {
                // ZipArchive is not thread-safe; decoding, not inflating, is the parallel part.
                // CRC-checked: a damaged stored member would otherwise reach the decoder as valid bytes.
                return CrcCheckedStream.ReadAll(zipEntries![entry.RelativePath], DisplayName(entry));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw InputException.For(DisplayName(entry), $"cannot read ({IoErrors.Describe(e)})");
        }
    }

    /// <summary>How messages name an entry: the file path, or "archive.zip:member".</summary>
    public string DisplayName(ImageEntry entry) =>
        directory != null ? Path.Combine(Source, entry.RelativePath)
        : listDirectory != null ? entry.RelativePath
        : $"{Source}:{entry.RelativePath}";

    public void Dispose() => zip?.Dispose();
}
