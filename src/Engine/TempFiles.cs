using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace GenMetrics;

/// <summary>
/// The temporary files being written right now (the ".NAME.GUID.tmp" beside each output before its
/// rename), deleted when the process is stopped by SIGINT (Ctrl-C), SIGTERM or SIGQUIT, or exits, so an
/// interrupted run leaves nothing half-written behind. The signal is not cancelled: the process still
/// ends as the user asked, after the files are gone.
/// </summary>
public static class TempFiles
{
    static readonly ConcurrentDictionary<string, byte> Live = new(StringComparer.Ordinal);
    static readonly object InstallLock = new();
    static List<PosixSignalRegistration>? registrations;

    /// <summary>Registers <paramref name="path"/> until the returned handle is disposed (after the rename or the cleanup).</summary>
    public static IDisposable Track(string path)
    {
        EnsureHandlers();
        Live[path] = 0;
        return new Handle(path);
    }

    /// <summary>The temporary files registered now (for tests and diagnostics).</summary>
    public static IReadOnlyCollection<string> Current => Live.Keys.ToArray();

    /// <summary>Deletes every registered temporary file; what cannot be deleted is left.</summary>
    public static void DeleteAll()
    {
        foreach (var path in Live.Keys)
        {
            try { File.Delete(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            Live.TryRemove(path, out _);
        }
    }

    static void EnsureHandlers()
    {
        if (registrations is not null) return;
        lock (InstallLock)
        {
            if (registrations is not null) return;
            var list = new List<PosixSignalRegistration>();
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
            {
                try { list.Add(PosixSignalRegistration.Create(signal, _ => DeleteAll())); }
                catch (Exception e) when (e is PlatformNotSupportedException or IOException) { }
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteAll();
            registrations = list;
        }
    }

    sealed class Handle(string path) : IDisposable
    {
        public void Dispose() => Live.TryRemove(path, out _);
    }
}
