namespace GenMetrics;

/// <summary>
/// The one rule every archive and folder reader uses for entries that are not data: any path component
/// that starts with '.' (hidden files and folders; macOS's AppleDouble "._name" companions, .DS_Store)
/// and macOS's "__MACOSX/" folder, which a zip made by Finder adds beside the real files. Used by the
/// image folder and zip readers and by the npz reader.
/// </summary>
public static class ArchiveEntries
{
    public static bool IsHidden(string relativePath)
    {
        foreach (var part in relativePath.Split('/', '\\'))
            if (part.StartsWith('.') || part.Equals("__MACOSX", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
