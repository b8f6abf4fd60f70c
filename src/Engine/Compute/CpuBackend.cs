namespace GenMetrics.Compute;

/// <summary>The CPU backend: SIMD kernels on all cores. Always available.</summary>
public sealed partial class CpuBackend : IComputeBackend
{
    public string Name => "cpu";

    public string Description =>
        $"CPU, {Environment.ProcessorCount} logical cores, " +
        (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" :
         System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2" : "SIMD " + System.Numerics.Vector<float>.Count * 32 + "-bit");

    public void Dispose() { }
}
