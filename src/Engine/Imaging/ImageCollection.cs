using System.IO.Compression;

namespace GenMetrics.Imaging;

/// <summary>One image of a folder or zip: its path relative to the root ('/'-separated), and what identifies its content.</summary>
public sealed record ImageEntry(string RelativePath, long Length, string ContentStamp);

/// <summary>
/// The images of a directory (recursive) or a .zip archive, sorted ordinally by relative path so that
/// every run, on every OS, sees the same order. Reads file bytes on demand; safe for concurrent reads.
/// </summary>
public sealed class ImageCollection : IDisposable
{
    readonly string? directory;
    readonly ZipArchive? zip;
    readonly Dictionary<string, ZipArchiveEntry>? zipEntries;
    readonly object zipLock = new();

    ImageCollection(string source, string? directory, ZipArchive? zip, Dictionary<string, ZipArchiveEntry>? zipEntries,
        IReadOnlyList<ImageEntry> entries, string sourceStamp)
    {
        Source = source;
        this.directory = directory;
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

    /// <summary>
    /// Lists the images under <paramref name="path"/> with one of <paramref name="extensions"/>
    /// (case-insensitive); <paramref name="maxImages"/> &gt; 0 keeps the first N in sorted order.
    /// </summary>
    public static ImageCollection Open(string path, IReadOnlyList<string> extensions, int maxImages = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        var wanted = new HashSet<string>(extensions, StringComparer.OrdinalIgnoreCase);
        bool Wanted(string name) => wanted.Contains(Path.GetExtension(name));

        ImageCollection collection;
        var leftOut = new Dictionary<string, int>(StringComparer.Ordinal);
        if (Directory.Exists(path))
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
            ZipArchive archive;
            try
            {
                archive = ZipFile.OpenRead(path);
            }
            catch (InvalidDataException e)
            {
                throw InputException.For(path, $"not a readable zip archive ({e.Message})");
            }
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

    static List<ImageEntry> Truncate(List<ImageEntry> entries, int maxImages) =>
        maxImages > 0 && entries.Count > maxImages ? entries.GetRange(0, maxImages) : entries;

    /// <summary>The encoded bytes of one entry. IO failures become an <see cref="InputException"/> naming the file.</summary>
    public byte[] ReadBytes(ImageEntry entry)
    {
        try
        {
            if (directory != null) return File.ReadAllBytes(Path.Combine(directory, entry.RelativePath));
            lock (zipLock)
            {
                // ZipArchive is not thread-safe; decoding, not inflating, is the parallel part.
                // CRC-checked: a damaged stored member would otherwise reach the decoder as valid bytes.
                return CrcCheckedStream.ReadAll(zipEntries![entry.RelativePath], DisplayName(entry));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw InputException.For(DisplayName(entry), $"cannot read ({e.Message})");
        }
    }

    /// <summary>How messages name an entry: the file path, or "archive.zip:member".</summary>
    public string DisplayName(ImageEntry entry) =>
        directory != null ? Path.Combine(Source, entry.RelativePath) : $"{Source}:{entry.RelativePath}";

    public void Dispose() => zip?.Dispose();
}
