using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenMetrics.Native;

/// <summary>
/// genmetrics_version() and genmetrics_instruction_set(): strings made once and kept for the life of the
/// process in native memory (the header promises static storage).
/// </summary>
internal static unsafe class LibraryInfo
{
    private static readonly Lazy<nint> s_version = new(() => Marshal.StringToCoTaskMemUTF8(Version));
    private static readonly Lazy<nint> s_instructionSet = new(() => Marshal.StringToCoTaskMemUTF8(InstructionSet));

    /// <summary>The engine's version, Directory.Build.props' Version (the CLI's --version), without build metadata.</summary>
    public static string Version => EngineInfo.Version;

    /// <summary>
    /// The vector instructions the CPU kernels run with, and the x86-64 level of the code: "AVX-512
    /// (x86-64-v4)", "AVX2 (x86-64-v3)", "SSE4.2 (x86-64)" or "SSE2 (x86-64)". In the NativeAOT library these are fixed when the
    /// variant is compiled, so they also name the loaded libgenmetrics-LEVEL.so; under the JIT they are what
    /// the JIT chose for this processor.
    /// </summary>
    public static string InstructionSet
    {
        get
        {
            if (Vector512.IsHardwareAccelerated) return "AVX-512 (x86-64-v4)";
            if (Vector256.IsHardwareAccelerated && Avx2.IsSupported) return "AVX2 (x86-64-v3)";
            // The x86-64 build: 128-bit vectors, SSE4.2 where the processor has it (opportunistic in NativeAOT).
            if (Sse42.IsSupported) return "SSE4.2 (x86-64)";
            if (Sse2.IsSupported) return "SSE2 (x86-64)";
            return RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant() + " (" + System.Numerics.Vector<float>.Count * 32 + "-bit vectors)";
        }
    }

    public static byte* VersionPointer => (byte*)s_version.Value;
    public static byte* InstructionSetPointer => (byte*)s_instructionSet.Value;
}
