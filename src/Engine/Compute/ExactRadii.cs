namespace GenMetrics.Compute;

/// <summary>
/// Exact k-NN radii from a low-precision pass (CPU and CUDA backends share it). The pass keeps, per row i, the
/// M smallest keys d̃(i, j) − e(j) with their j, where d̃ is the low-precision squared distance and
/// e(i) + e(j) bounds its error (<see cref="DistanceErrorBound"/>). Then for each row:
/// <list type="number">
/// <item>U = the (kmax+1)-th smallest upper bound d̃ + e(i) + e(j) among the kept: the true radius is ≤ U;</item>
/// <item>candidates = kept j whose lower bound d̃ − e(i) − e(j) ≤ U. A j not kept has a key ≥ the largest kept
/// key; if that minus e(i) is still above U, the candidates contain every j the radius can depend on.
/// Otherwise (more than M near-ties: heavy duplication) the row is "overflowing" and compared with all rows;</item>
/// <item>the candidates' distances are recomputed in float64 (Σ(a − b)², one term after the other) and the
/// radius for k is the (k+1)-th smallest of them, the row itself (exactly 0) included.</item>
/// </list>
/// </summary>
internal static class ExactRadii
{
    /// <summary>Candidates kept per row beyond kmax + 1: room for near-ties before a row overflows.</summary>
    public const int ExtraCandidates = 16;

    /// <summary>
    /// Step 1–2 for one row: writes the candidate columns to <paramref name="candidates"/> and returns their
    /// number, or -1 when the row overflows (its radius needs the distances to all rows).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static int SelectCandidates(ReadOnlySpan<float> keys, ReadOnlySpan<int> indices, bool full, double rowTerm, ReadOnlySpan<double> terms, int kmax, Span<int> candidates)
    {
        int m = keys.Length;
        Span<double> uppers = stackalloc double[m];
        for (int t = 0; t < m; t++) uppers[t] = keys[t] + 2 * terms[indices[t]] + rowTerm;
        uppers.Sort();
        double u = uppers[Math.Min(kmax, m - 1)];
        if (full && keys[m - 1] - rowTerm <= u) return -1;
        int count = 0;
        for (int t = 0; t < m; t++)
        {
            if (keys[t] - rowTerm <= u) candidates[count++] = indices[t];
        }
        return count;
    }

    /// <summary>
    /// Step 3 for one row: radii[q] = the (ks[q]+1)-th smallest of <paramref name="exact"/> (sorted in place,
    /// the row's own 0 among them). Returns 1 when there were more candidates than the kmax + 1 needed (the
    /// error bound alone could not tell which were nearest: a radius decided by float64), else 0.
    /// </summary>
    public static int Finish(Span<double> exact, IReadOnlyList<int> ks, int kmax, Span<double> radii)
    {
        exact.Sort();
        for (int q = 0; q < ks.Count; q++) radii[q] = exact[ks[q]];
        return exact.Length > kmax + 1 ? 1 : 0;
    }
}
