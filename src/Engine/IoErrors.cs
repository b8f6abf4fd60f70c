namespace GenMetrics;

/// <summary>
/// Plain words for the .NET exceptions that file and zip reading throw, so that a user's one-line error says
/// what is wrong ("permission denied", "its central directory is damaged") instead of quoting the runtime's
/// message ("Could not find file '/proc/.tmp'.", "Central Directory corrupt.").
/// </summary>
internal static class IoErrors
{
    // Linux errno values .NET leaves in IOException.HResult when it has no more specific exception type.
    const int NoSpace = 28, ReadOnlyFileSystem = 30, NameTooLong = 36;

    /// <summary>Why a file or folder could not be read or written, e.g. "permission denied", "no such file or folder".</summary>
    public static string Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        FileNotFoundException or DirectoryNotFoundException => "no such file or folder",
        PathTooLongException => "the path is too long",
        IOException { HResult: NoSpace } => "no space left on the device",
        IOException { HResult: ReadOnlyFileSystem } => "read-only file system",
        IOException { HResult: NameTooLong } => "the name is too long",
        InvalidDataException z => Zip(z),
        _ => e.Message.TrimEnd('.'),
    };

    /// <summary>Why a folder does not take a new file: "permission denied", "read-only file system", "no space left on the device", else "the folder is not writable".</summary>
    public static string NotWritable(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        IOException { HResult: NoSpace } => "no space left on the device",
        IOException { HResult: ReadOnlyFileSystem } => "read-only file system",
        _ => "the folder is not writable",
    };

    /// <summary>What a <see cref="System.IO.Compression"/> error means for the archive or the compressed member.</summary>
    public static string Zip(InvalidDataException e)
    {
        string m = e.Message;
        if (m.Contains("End of Central Directory record could not be found", StringComparison.OrdinalIgnoreCase))
            return "no zip directory at its end: truncated, or not a zip";
        if (m.Contains("Central Directory", StringComparison.OrdinalIgnoreCase) || m.Contains("entries", StringComparison.OrdinalIgnoreCase))
            return "its central directory is damaged";
        if (m.Contains("compression method", StringComparison.OrdinalIgnoreCase))
            return "compressed with a method other than Deflate or stored";
        if (m.Contains("local file header", StringComparison.OrdinalIgnoreCase))
            return "a member's local header is damaged";
        return "its compressed data is damaged";
    }
}
