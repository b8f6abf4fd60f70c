using GenMetrics.Compute;

namespace GenMetrics.Native;

/// <summary>What a genmetrics_context* stands for: a backend and the lock that serialises calls on it.</summary>
internal sealed class NativeContext(IComputeBackend backend)
{
    public IComputeBackend Backend { get; } = backend;
    public object Gate { get; } = new();
}

/// <summary>
/// Live contexts by handle. Handles are small integers rather than GCHandles so that a NULL, destroyed
/// or made-up handle is reported as GENMETRICS_E_ARGUMENT instead of crashing the process.
/// </summary>
internal static class NativeContexts
{
    private static readonly Dictionary<nint, NativeContext> s_live = [];
    private static long s_lastHandle;

    public static nint Add(NativeContext context)
    {
        lock (s_live)
        {
            nint handle = (nint)(++s_lastHandle);
            s_live.Add(handle, context);
            return handle;
        }
    }

    public static NativeContext Get(nint handle)
    {
        if (handle == 0) throw new NativeArgumentException("context is NULL");
        lock (s_live)
        {
            return s_live.TryGetValue(handle, out var context)
                ? context
                : throw new NativeArgumentException("context is not a live genmetrics_context (destroyed, or never created)");
        }
    }

    public static NativeContext? Remove(nint handle)
    {
        lock (s_live)
        {
            return s_live.Remove(handle, out var context) ? context : null;
        }
    }
}
