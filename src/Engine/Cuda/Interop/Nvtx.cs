using System.Text;

namespace GenMetrics.Cuda.Interop;

/// <summary>
/// NVTX ranges for Nsight Systems when libnvToolsExt is installed; silently nothing otherwise (CUDA 12+
/// ships NVTX 3 as headers only, so the shared library is often absent).
/// </summary>
internal static unsafe class Nvtx
{
    private static readonly Lazy<(nint Push, nint Pop)> Functions = new(() =>
    {
        var probe = NativeLibraryProbe.Load("NVTX", NativeLibraryProbe.CandidateNames("nvToolsExt", ["1"]));
        if (!probe.IsLoaded) return (0, 0);
        return (probe.OptionalExport("nvtxRangePushA"), probe.OptionalExport("nvtxRangePop"));
    });

    /// <summary>Pushes a named range; dispose the result to pop it.</summary>
    public static IDisposable Range(string name)
    {
        var (push, pop) = Functions.Value;
        if (push == 0 || pop == 0) return NoRange.Instance;
        byte[] utf8 = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = utf8) ((delegate* unmanaged<byte*, int>)push)(p);
        return new PopOnDispose(pop);
    }

    private sealed class PopOnDispose(nint pop) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            ((delegate* unmanaged<int>)pop)();
        }
    }

    private sealed class NoRange : IDisposable
    {
        public static readonly NoRange Instance = new();
        public void Dispose() { }
    }
}
