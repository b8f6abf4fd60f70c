namespace GenMetrics.Benchmarks;

/// <summary>
/// Results in the order they were measured. Each is handed to the caller's callback as soon as it exists,
/// so that a benchmark group taking minutes prints line by line instead of all at its end.
/// </summary>
internal sealed class BenchmarkResults(Action<BenchmarkResult>? onResult)
{
    private readonly List<BenchmarkResult> _all = [];

    public IReadOnlyList<BenchmarkResult> All => _all;

    public void Add(BenchmarkResult result)
    {
        _all.Add(result);
        onResult?.Invoke(result);
    }
}
