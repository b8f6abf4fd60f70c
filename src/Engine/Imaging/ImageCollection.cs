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
        if (Directory.Exists(path))
        {
            var root = Path.GetFullPath(path);
            var entries = new List<ImageEntry>();
            foreach (var file in Directory.EnumerateFiles(root, "*", new EnumerationOptions
            {
                RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
            }))
            {
                if (!Wanted(file)) continue;
                var info = new FileInfo(file);
                var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                entries.Add(new ImageEntry(relative, info.Length, info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            entries.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
            collection = new ImageCollection(path, root, null, null, Truncate(entries, maxImages), "dir");
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
                if (e.FullName.EndsWith('/') || !Wanted(e.FullName) || byName.ContainsKey(e.FullName)) continue;
                byName[e.FullName] = e;
                // The zip's own CRC-32 is a content hash we get for free.
                entries.Add(new ImageEntry(e.FullName, e.Length, e.Crc32.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));
            }
            entries.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
            var info = new FileInfo(path);
            collection = new ImageCollection(path, null, archive, byName, Truncate(entries, maxImages),
                $"zip:{info.Length}:{info.LastWriteTimeUtc.Ticks}");
        }
        else if (File.Exists(path))
            throw InputException.For(path, "expected a directory of images or a .zip archive");
        else
            throw InputException.For(path, "no such directory or file");

        if (collection.Entries.Count == 0)
        {
            collection.Dispose();
            throw InputException.For(path, $"no images found (looked for {string.Join(", ", extensions)})");
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
                using var stream = zipEntries![entry.RelativePath].Open();
                var buffer = new byte[entry.Length];
                stream.ReadExactly(buffer);
                return buffer;
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
