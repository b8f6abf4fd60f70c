namespace GenMetrics.Benchmarks;

/// <summary>
/// One benchmark's figures, as `genmetrics bench` prints them (table and JSON).
/// Seconds is the median of the timed repeats after warm-up; Gflops is the useful work of the
/// operation (e.g. 2·M·N·K for a GEMM) divided by that time; PercentOfPeak compares with the
/// peak named in PeakDescription when there is one.
/// </summary>
public sealed record BenchmarkResult(
    string Name,
    string Backend,
    string Sizes,
    double Seconds,
    int Repeats,
    double? Gflops = null,
    double? PercentOfPeak = null,
    string? PeakDescription = null,
    string? Note = null);

/// <summary>
/// Options shared by the benchmarks. <paramref name="Samples"/> and <paramref name="Dims"/> replace the
/// precision/recall sizes (N samples per set, each D) of the CPU and CUDA benchmarks; the CUDA GEMM peak
/// then shrinks with them (a smoke test on small data, e.g. under the emulator, as much as a measurement).
/// <paramref name="Only"/> limits the groups (gemm, pr, fid).
/// </summary>
public sealed record BenchmarkOptions(int Repeats = 5, bool Quick = false, int Seed = 1, int? Samples = null, IReadOnlyList<int>? Dims = null,
    IReadOnlySet<string>? Only = null)
{
    /// <summary>Whether the benchmark group (gemm, pr, fid) is asked for; all are when <see cref="Only"/> is null.</summary>
    public bool Includes(string group) => Only is null || Only.Contains(group);
}
