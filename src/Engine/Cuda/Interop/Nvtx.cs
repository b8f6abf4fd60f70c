using System.Runtime.InteropServices;
using System.Text;

namespace GenMetrics.Cuda.Interop;

/// <summary>
/// NVTX ranges for Nsight Systems (and any other NVTX tool), in this order of preference:
/// 1. NVTX 3 injection: CUDA 12.9+ and 13 ship NVTX as headers only; a tool announces itself by naming its
///    injection library in NVTX_INJECTION64_PATH. We do what the NVTX 3 headers do on the first NVTX call:
///    load that library, call its InitializeInjectionNvtx2 with our export-table getter (NVTX_ETID_CALLBACKS:
///    per-module function tables whose slots the tool fills in; NVTX_ETID_VERSIONINFO: version 3), then call
///    the tool's nvtxRangePushA / nvtxRangePop from the CORE module's slots.
/// 2. The old shared library libnvToolsExt.so.1 (CUDA ≤ 12.8), which does the same internally.
/// 3. Nothing (no tool attached): ranges cost one check.
/// <see cref="Status"/> says which one is active (`genmetrics devices`).
/// </summary>
internal static unsafe class Nvtx
{
    /// <summary>The environment variable NVTX tools set to their injection library (64-bit processes).</summary>
    public const string InjectionVariable = "NVTX_INJECTION64_PATH";

    // nvToolsExtTypes / nvtxDetail: export table ids, callback modules and the CORE module's callback ids.
    private const uint EtidCallbacks = 1;
    private const uint EtidVersionInfo = 3;
    private const int NvtxVersion = 3;
    private const int CoreRangePushA = 9;
    private const int CoreRangePop = 11;
    // Slots per module (NVTX_CBID_*_SIZE) for modules 1..6: CORE, CUDA, OPENCL, CUDART, CORE2, SYNC.
    private static readonly int[] ModuleSizes = [16, 9, 15, 7, 16, 7];

    private sealed record State(nint Push, nint Pop, string Status);

    private static readonly Lazy<State> Functions = new(Initialise, LazyThreadSafetyMode.ExecutionAndPublication);

    // Unmanaged memory handed to the tool; kept for the life of the process (as the NVTX globals are).
    private static nint* _slots;       // all modules' function-pointer slots
    private static nint** _tables;     // per module: pointers to its slots, with a null before and after
    private static nint* _callbacks;   // NvtxExportTableCallbacks { size_t struct_size; GetModuleFunctionTable }
    private static nint* _versionInfo; // NvtxExportTableVersionInfo { size_t; uint32 version; uint32 reserved; SetInjectionNvtxVersion }

    /// <summary>Which NVTX route is active, in one line.</summary>
    public static string Status => Functions.Value.Status;

    /// <summary>Pushes a named range; dispose the result to pop it.</summary>
    public static IDisposable Range(string name)
    {
        var (push, pop, _) = Functions.Value;
        if (push == 0 || pop == 0) return NoRange.Instance;
        byte[] utf8 = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = utf8) ((delegate* unmanaged<byte*, int>)push)(p);
        return new PopOnDispose(pop);
    }

    private static State Initialise()
    {
        string? injection = Environment.GetEnvironmentVariable(InjectionVariable);
        string? injectionProblem = null;
        if (!string.IsNullOrEmpty(injection))
        {
            var state = TryInjection(injection, out injectionProblem);
            if (state is not null) return state;
        }
        var probe = NativeLibraryProbe.Load("NVTX", NativeLibraryProbe.CandidateNames("nvToolsExt", ["1"]));
        string prefix = injectionProblem is null ? "" : $"{injectionProblem}; ";
        if (probe.IsLoaded)
        {
            nint push = probe.OptionalExport("nvtxRangePushA"), pop = probe.OptionalExport("nvtxRangePop");
            if (push != 0 && pop != 0)
                return new State(push, pop, $"{prefix}NVTX ranges through {probe.LoadedName} (NVTX 2 library)");
        }
        return new State(0, 0, injectionProblem is null
            ? $"NVTX ranges off (no {InjectionVariable} set by a tool, no libnvToolsExt.so.1)"
            : $"{prefix}NVTX ranges off (no libnvToolsExt.so.1 to fall back on)");
    }

    /// <summary>The NVTX 3 injection protocol; null (and why) when the library cannot be used.</summary>
    private static State? TryInjection(string path, out string? problem)
    {
        problem = null;
        if (!NativeLibrary.TryLoad(path, out nint library))
        {
            problem = $"{InjectionVariable}={path}: cannot be loaded";
            return null;
        }
        if (!NativeLibrary.TryGetExport(library, "InitializeInjectionNvtx2", out nint initialise))
        {
            problem = $"{InjectionVariable}={path}: exports no InitializeInjectionNvtx2";
            return null;
        }
        BuildExportTables();
        int ok = ((delegate* unmanaged<delegate* unmanaged<uint, void*>, int>)initialise)(&GetExportTable);
        if (ok == 0)
        {
            problem = $"{InjectionVariable}={path}: InitializeInjectionNvtx2 refused (returned 0)";
            return null;
        }
        // CORE is module 1: its slots come first.
        nint push = _slots[CoreRangePushA], pop = _slots[CoreRangePop];
        if (push == 0 || pop == 0)
        {
            problem = $"{InjectionVariable}={path}: the tool did not provide nvtxRangePushA/nvtxRangePop";
            return null;
        }
        return new State(push, pop, $"NVTX ranges through the NVTX 3 injection library {path} ({InjectionVariable})");
    }

    private static void BuildExportTables()
    {
        if (_slots is not null) return;
        int totalSlots = ModuleSizes.Sum();
        _slots = (nint*)NativeMemory.AllocZeroed((nuint)(totalSlots * sizeof(nint)));
        _tables = (nint**)NativeMemory.AllocZeroed((nuint)((totalSlots + ModuleSizes.Length) * sizeof(nint)));
        // Table of module m: entry 0 is the invalid id (null), entries 1..size-1 point at slots, then one null.
        int slot = 0, table = 0;
        foreach (int size in ModuleSizes)
        {
            nint** t = _tables + table;
            t[0] = null;
            for (int id = 1; id < size; id++) t[id] = _slots + slot + id;
            t[size] = null;
            slot += size;
            table += size + 1;
        }
        _callbacks = (nint*)NativeMemory.AllocZeroed((nuint)(2 * sizeof(nint)));
        _callbacks[0] = 2 * sizeof(nint);
        _callbacks[1] = (nint)(delegate* unmanaged<int, nint***, uint*, int>)&GetModuleFunctionTable;
        _versionInfo = (nint*)NativeMemory.AllocZeroed((nuint)(3 * sizeof(nint)));
        _versionInfo[0] = 3 * sizeof(nint);
        ((uint*)(_versionInfo + 1))[0] = NvtxVersion;
        ((uint*)(_versionInfo + 1))[1] = 0;
        _versionInfo[2] = (nint)(delegate* unmanaged<uint, void>)&SetInjectionNvtxVersion;
    }

    [UnmanagedCallersOnly]
    private static void* GetExportTable(uint id) => id switch
    {
        EtidCallbacks => _callbacks,
        EtidVersionInfo => _versionInfo,
        _ => null,
    };

    /// <summary>NvtxExportTableCallbacks.GetModuleFunctionTable: the slot table of a module and its size (entries − 1).</summary>
    [UnmanagedCallersOnly]
    private static int GetModuleFunctionTable(int module, nint*** table, uint* size)
    {
        if (module < 1 || module > ModuleSizes.Length) return 0;
        int offset = 0;
        for (int m = 1; m < module; m++) offset += ModuleSizes[m - 1] + 1;
        if (table is not null) *table = (nint**)(_tables + offset);
        if (size is not null) *size = (uint)ModuleSizes[module - 1];
        return 1;
    }

    [UnmanagedCallersOnly]
    private static void SetInjectionNvtxVersion(uint version)
    {
        // Reserved by NVTX for tools; nothing to do.
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
