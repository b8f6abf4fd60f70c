using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace GenMetrics.Native;

/// <summary>
/// genmetrics_last_error(): one UTF-8 message per thread in native memory, replaced or cleared by the next
/// call on that thread, so the pointer handed out stays valid exactly as long as the header promises.
/// </summary>
internal static unsafe class LastError
{
    [ThreadStatic] private static byte* t_message;

    /// <summary>The message, or a static empty string when the last call succeeded.</summary>
    public static byte* Pointer => t_message != null ? t_message : Empty();

    public static void Clear()
    {
        if (t_message == null) return;
        NativeMemory.Free(t_message);
        t_message = null;
    }

    /// <summary>Records <paramref name="e"/> as this thread's message and returns the status it maps to.</summary>
    public static NativeStatus Set(Exception e)
    {
        var (status, message) = e switch
        {
            InputException => (NativeStatus.Input, e.Message),
            NativeArgumentException => (NativeStatus.Argument, e.Message),
            NativeBackendException => (NativeStatus.Backend, e.Message),
            // A CUDA call failed during the computation (device out of memory even at the smallest tile, or a
            // driver error): the backend could not do the work.
            GenMetrics.Cuda.Interop.CudaException => (NativeStatus.Backend, $"CUDA error: {e.Message}"),
            OutOfMemoryException => (NativeStatus.Internal, "out of memory"),
            _ => (NativeStatus.Internal, $"internal error ({e.GetType().Name}): {e.Message}"),
        };
        Store(message);
        return status;
    }

    private static void Store(string message)
    {
        Clear();
        int length = Encoding.UTF8.GetByteCount(message);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(message, new Span<byte>(buffer, length));
        buffer[length] = 0;
        t_message = buffer;
    }

    // u8 literals live in the image's read-only data, so the address never moves.
    private static byte* Empty() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("\0"u8));
}
