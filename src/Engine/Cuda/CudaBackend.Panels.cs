using GenMetrics.Compute;
using GenMetrics.Cuda.Interop;
using GenMetrics.Features;

namespace GenMetrics.Cuda;

// Sets larger than device memory (issue 15 item 6): the fake x real pass streams both sets in row panels.
public sealed partial class CudaBackend
{
    /// <summary>
    /// Free memory the planner leaves unused (other processes, cuBLAS workspaces, fragmentation): 256 MiB, or a
    /// sixteenth of a smaller device.
    /// </summary>
    private const long PlanningReserveBytes = 256L << 20;

    /// <summary>
    /// Device bytes a pass may plan with: <see cref="DeviceMemoryBudget"/> when set, else the free memory less the
    /// reserve, plus <paramref name="reusable"/> (retained copies the pass reuses or frees). Tiles are not
    /// planned for beyond the smallest: a pass that fits with it shrinks its tile on out-of-memory instead.
    /// </summary>
    private long PlanningBudget(long reusable)
    {
        if (DeviceMemoryBudget is { } forced) return forced;
        var (free, total) = _session.MemoryInfo();
        return Math.Max(0, free - Math.Min(PlanningReserveBytes, total / 16) + reusable);
    }

    /// <summary>The whole real set's column means while the cross pass runs panel by panel; null otherwise.</summary>
    private DevicePointer? _panelShift;

    private bool _panelNoticeGiven;

    /// <summary>
    /// One-line notices: the first time this backend streams row panels (one line per backend, however many
    /// passes follow; <see cref="LastKnnPanels"/> and <see cref="LastCrossPanels"/> say how each pass ran); null for silence.
    /// <see cref="ComputeBackends.Create"/> connects it to the caller's notice channel.
    /// </summary>
    public Action<string>? Notice
    {
        get => _notice;
        set
        {
            _notice = value;
            _panelNoticeGiven = false; // a new channel hears the line once too
        }
    }

    private Action<string>? _notice;

    /// <summary>
    /// How the last fake x real pass ran: null when both sets were resident, else "row panels of R rows (P x Q
    /// panel pairs): ..." (for <c>bench</c> and tests).
    /// </summary>
    public string? LastCrossPanels { get; private set; }

    /// <summary>
    /// Device bytes the panel planner may use, instead of the free memory cuMemGetInfo reports less a reserve;
    /// null for the device's. Tests set it small to force row panels on the emulator.
    /// </summary>
    internal long? DeviceMemoryBudget { get; set; }

    /// <summary>
    /// The fake x real pass: both sets resident when they fit (with their prepared copies, per-row arrays and a
    /// tile), else streamed in row panels — every fake panel against every real panel, each pair a resident pass
    /// on two row slices, shifted by the whole real set's mean — and the per-pair reductions combined
    /// (counts summed, flags or-ed, minima with the lowest index on ties, realism maxima). Every decision is the
    /// resident path's: distances are the same rows' (same shift, same norms, same error terms) and refined in
    /// float64 where the bound straddles a radius.
    /// </summary>
    private CrossReductions CrossInPanelsWhenNeeded(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, int numK, IProgress<double>? progress)
    {
        // Retained device copies of these two sets are reused by the resident pass and freed for the panels.
        long retained = RetainedBytes(fake) + RetainedBytes(real);
        int panelRows = CrossPanelRows(fake.Rows, real.Rows, fake.Dim, numK, request.RealismRadiiSquared is not null, retained);
        LastCrossPanels = null;
        if (panelRows == 0) return WithShrinkingTiles(() => CrossCore(fake, real, request, numK, progress));
        while (true)
        {
            try
            {
                return CrossPanels(fake, real, request, numK, panelRows, progress);
            }
            catch (CudaException e) when (e.IsOutOfMemory && panelRows > ResidentFeatures.MeanSliceRows)
            {
                // The estimate was optimistic (fragmentation, another process): smaller panels.
                panelRows = Math.Max(ResidentFeatures.MeanSliceRows, panelRows / 2 / ResidentFeatures.MeanSliceRows * ResidentFeatures.MeanSliceRows);
            }
        }
    }

    /// <summary>
    /// 0 when both sets fit resident; else the rows per panel (a multiple of 512, at least 512) such that two
    /// panels, their prepared copies, per-row arrays and a tile fit the budget.
    /// </summary>
    internal int CrossPanelRows(int fakeRows, int realRows, int dim, int numK, bool realism, long retainedBytes = 0)
    {
        long budget = PlanningBudget(retainedBytes);
        long valueBytes = sizeof(float) + (Precision == CudaPrecision.Fp16 ? 2 : sizeof(float)); // original + prepared
        // Per-row arrays of CrossCore (counts, flags, stacked radii and thresholds, minima, realism), generously.
        long perRow = 96 + 64L * Math.Max(numK, 1) + (realism ? 48 : 0);
        long Need(long rows, long tileEdge) => rows * (dim * valueBytes + perRow) + tileEdge * tileEdge * sizeof(float) + 2L * dim * sizeof(double) * (rows / 512 + 2);
        long total = (long)fakeRows + realRows;
        if (Need(total, MinimumTile) <= budget) return 0;
        int slice = ResidentFeatures.MeanSliceRows;
        long tile = MinimumTile;
        long fixedBytes = tile * tile * sizeof(float);
        long perPanelRow = 2 * (dim * valueBytes + perRow) + 2L * dim * sizeof(double) / slice;
        long rows = (budget - fixedBytes) / perPanelRow;
        rows = rows / slice * slice;
        return (int)Math.Clamp(rows, slice, Math.Max(slice, (Math.Max(fakeRows, realRows) + slice - 1) / slice * slice));
    }

    private CrossReductions CrossPanels(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, int numK, int panelRows, IProgress<double>? progress)
    {
        _session.MakeCurrent();
        // Device copies kept for later calls would take the room the panels need.
        ReleaseRetainedCopies();
        int nFake = fake.Rows, nReal = real.Rows;
        int fakePanels = (nFake + panelRows - 1) / panelRows, realPanels = (nReal + panelRows - 1) / panelRows;
        string note = $"row panels of {panelRows} rows ({fakePanels} x {realPanels} panel pairs): {fake.Name} [{nFake}, {fake.Dim}] and {real.Name} [{nReal}, {real.Dim}] do not fit device memory together";
        LastCrossPanels = note;
        PanelNotice($"the fake x real pass in {note}");

        var countLe = NewArrays<int>(numK, nFake);
        var countLt = NewArrays<int>(numK, nFake);
        var complement = NewArrays<bool>(numK, nFake);
        var insideLe = NewArrays<bool>(numK, nReal);
        var insideLt = NewArrays<bool>(numK, nReal);
        var covered = NewArrays<bool>(numK, nReal);
        var fakeNearest = new float[nFake];
        var fakeNearestIndex = new int[nFake];
        var realNearest = new float[nReal];
        Array.Fill(fakeNearest, float.PositiveInfinity);
        Array.Fill(realNearest, float.PositiveInfinity);
        float[]? realism = request.RealismRadiiSquared is null ? null : new float[nFake];
        if (realism is not null) Array.Fill(realism, float.NegativeInfinity);
        var refinement = RefinementCounts.None;

        using var shift = ResidentFeatures.PanelMean(_session, _columnPartialSums, _columnMeansFinish, real, panelRows);
        _panelShift = shift.Start;
        try
        {
            int pairs = fakePanels * realPanels, done = 0;
            for (int f0 = 0; f0 < nFake; f0 += panelRows)
            {
                int fc = Math.Min(panelRows, nFake - f0);
                var fakePanel = fake.RowSlice(f0, fc, $"{fake.Name} rows {f0}..{f0 + fc - 1}");
                for (int r0 = 0; r0 < nReal; r0 += panelRows)
                {
                    int rc = Math.Min(panelRows, nReal - r0);
                    var realPanel = real.RowSlice(r0, rc, $"{real.Name} rows {r0}..{r0 + rc - 1}");
                    var sub = new CrossRequest
                    {
                        RealRadiiSquared = request.RealRadiiSquared.Select(a => a[r0..(r0 + rc)]).ToArray(),
                        FakeRadiiSquared = request.FakeRadiiSquared.Select(a => a[f0..(f0 + fc)]).ToArray(),
                        RealismRadiiSquared = request.RealismRadiiSquared?[r0..(r0 + rc)],
                        RealismEpsilon = request.RealismEpsilon,
                    };
                    int pair = done;
                    var part = WithShrinkingTiles(() => CrossCore(fakePanel, realPanel, sub, numK,
                        progress is null ? null : new Progress(progress, pair, pairs)));
                    for (int k = 0; k < numK; k++)
                    {
                        for (int i = 0; i < fc; i++)
                        {
                            countLe[k][f0 + i] += part.FakeInsideRealCountLe[k][i];
                            countLt[k][f0 + i] += part.FakeInsideRealCountLt[k][i];
                            complement[k][f0 + i] |= part.FakeComplementLt[k][i];
                        }
                        for (int j = 0; j < rc; j++)
                        {
                            insideLe[k][r0 + j] |= part.RealInsideFakeLe[k][j];
                            insideLt[k][r0 + j] |= part.RealInsideFakeLt[k][j];
                            covered[k][r0 + j] |= part.RealCoveredLt[k][j];
                        }
                    }
                    for (int i = 0; i < fc; i++)
                    {
                        // Real panels in increasing order and a strict comparison: the lowest index wins ties.
                        if (part.FakeNearestRealDistanceSquared[i] < fakeNearest[f0 + i])
                        {
                            fakeNearest[f0 + i] = part.FakeNearestRealDistanceSquared[i];
                            fakeNearestIndex[f0 + i] = r0 + part.FakeNearestRealIndex[i];
                        }
                        if (realism is not null && part.Realism![i] > realism[f0 + i]) realism[f0 + i] = part.Realism[i];
                    }
                    for (int j = 0; j < rc; j++)
                        if (part.RealNearestFakeDistanceSquared[j] < realNearest[r0 + j]) realNearest[r0 + j] = part.RealNearestFakeDistanceSquared[j];
                    refinement += part.Refinement;
                    progress?.Report((double)++done / pairs);
                }
            }
        }
        finally
        {
            _panelShift = null;
        }
        return new CrossReductions
        {
            FakeInsideRealCountLe = countLe,
            FakeInsideRealCountLt = countLt,
            RealInsideFakeLe = insideLe,
            RealInsideFakeLt = insideLt,
            RealCoveredLt = covered,
            FakeComplementLt = complement,
            FakeNearestRealDistanceSquared = fakeNearest,
            FakeNearestRealIndex = fakeNearestIndex,
            RealNearestFakeDistanceSquared = realNearest,
            Realism = realism,
            Refinement = refinement,
        };
    }

    /// <summary>
    /// How the last k-NN radii pass ran: null when the set was resident, else "row panels of R rows ...".
    /// </summary>
    public string? LastKnnPanels { get; private set; }

    /// <summary>
    /// k-NN radii: the set resident when it fits (with its prepared copy, candidate lists and a tile), else in
    /// row panels. Exact either way: for a row i of panel P the kmax + 1 smallest float64 distances over the
    /// whole set are the smallest kmax + 1 of L ⊎ ⨄_Q (A_Q ⊖ L), where L is the list over P alone, A_Q the list
    /// over P ∪ Q (two panels resident together) and ⊖ the multiset difference (by value). Every list is the
    /// resident pass's exact radii for k = 1..kmax of a two-panel set, so no decision depends on the panels;
    /// the cost is the P×P tiles recomputed in each pair (about twice the GEMM work of the resident pass).
    /// </summary>
    private KnnRadii KnnInPanelsWhenNeeded(FeatureMatrix x, IReadOnlyList<int> ks, int kmax, IProgress<double>? progress)
    {
        LastKnnPanels = null;
        int panelRows = KnnPanelRows(x, kmax);
        if (panelRows == 0) return WithShrinkingTiles(() => KnnCore(x, ks, kmax, progress));
        while (true)
        {
            try
            {
                return KnnPanels(x, ks, kmax, panelRows, progress);
            }
            catch (CudaException e) when (e.IsOutOfMemory && panelRows > ResidentFeatures.MeanSliceRows)
            {
                panelRows = Math.Max(ResidentFeatures.MeanSliceRows, panelRows / 2 / ResidentFeatures.MeanSliceRows * ResidentFeatures.MeanSliceRows);
            }
        }
    }

    /// <summary>
    /// 0 when the set fits resident (after freeing other sets' retained copies if that is what it takes); else
    /// the rows per panel (a multiple of 512) such that two panels fit.
    /// </summary>
    private int KnnPanelRows(FeatureMatrix x, int kmax)
    {
        long valueBytes = sizeof(float) + (Precision == CudaPrecision.Fp16 ? 2 : sizeof(float));
        long tile = MinimumTile;
        int keep = Math.Min(KnnMaxKeep, kmax + 1 + ExactRadii.ExtraCandidates);
        // Values (original + prepared), norms, terms, the 32-candidate lists, a tile and the column slices' partial lists.
        long Need(long rows) => rows * (x.Dim * valueBytes + 16 + KnnMaxKeep * 8L) + Math.Min(tile, rows) * Math.Min(tile, rows) * sizeof(float)
            + 64L * Math.Min(tile, rows) * keep * 8 + 2L * x.Dim * sizeof(double) * (rows / 512 + 2);
        long Budget() => PlanningBudget(RetainedBytes(x));
        if (Need(x.Rows) <= Budget()) return 0;
        if (DeviceMemoryBudget is null && _retained.Any(p => p.Value is not null && !ReferenceEquals(p.Key, x)))
        {
            // Other sets' retained copies are made again when next needed; this set is needed now.
            foreach (var set in _retained.Keys.Where(s => !ReferenceEquals(s, x)).ToList())
            {
                _retained[set]?.Dispose();
                _retained[set] = null;
            }
            if (Need(x.Rows) <= Budget()) return 0;
        }
        int slice = ResidentFeatures.MeanSliceRows;
        long budget = Budget();
        long rows = slice;
        while (rows + slice <= x.Rows && Need(2 * (rows + slice)) <= budget) rows += slice;
        return (int)rows;
    }

    private KnnRadii KnnPanels(FeatureMatrix x, IReadOnlyList<int> ks, int kmax, int panelRows, IProgress<double>? progress)
    {
        _session.MakeCurrent();
        ReleaseRetainedCopies();
        int n = x.Rows, m = kmax + 1;
        int panels = (n + panelRows - 1) / panelRows;
        string note = $"row panels of {panelRows} rows ({panels} panels, {panels * (panels + 1) / 2} passes): {x.Name} [{n}, {x.Dim}] does not fit device memory";
        LastKnnPanels = note;
        PanelNotice($"k-NN radii in {note}");
        var allKs = Enumerable.Range(1, kmax).ToArray();
        // pool[i]: the row's smallest distances gathered so far (L, then each A_Q ⊖ L), as float64 values.
        var pools = new List<double>[n];
        var refinement = RefinementCounts.None;
        int passes = panels * (panels + 1) / 2, done = 0;
        IProgress<double>? Slice() => progress is null ? null : new Progress(progress, done, passes);

        var own = new double[n][];   // L for every row: its list within its own panel
        for (int p0 = 0; p0 < n; p0 += panelRows)
        {
            int pc = Math.Min(panelRows, n - p0);
            var panel = x.RowSlice(p0, pc, $"{x.Name} rows {p0}..{p0 + pc - 1}");
            if (pc < m)
            {
                // A last panel of kmax rows or fewer: its few distances in float64 on the host (the same Σ(a − b)²
                // as the refinement), +∞ for the places it cannot fill.
                for (int i = 0; i < pc; i++)
                {
                    var list = new double[m];
                    Array.Fill(list, double.PositiveInfinity);
                    list[0] = 0;
                    for (int j = 0, c = 1; j < pc; j++)
                        if (j != i) list[c++] = DistanceErrorBound.ExactSquaredDistance(panel.Row(i), panel.Row(j));
                    Array.Sort(list);
                    own[p0 + i] = list;
                    pools[p0 + i] = [.. list];
                }
            }
            else
            {
                var radii = WithShrinkingTiles(() => KnnCore(panel, allKs, kmax, Slice()));
                refinement += radii.Refinement;
                for (int i = 0; i < pc; i++)
                {
                    var list = new double[m];
                    for (int k = 1; k <= kmax; k++) list[k] = radii[k - 1][i];
                    own[p0 + i] = list;
                    pools[p0 + i] = [.. list];
                }
            }
            progress?.Report((double)++done / passes);
        }
        for (int p0 = 0; p0 < n; p0 += panelRows)
        {
            int pc = Math.Min(panelRows, n - p0);
            for (int q0 = p0 + panelRows; q0 < n; q0 += panelRows)
            {
                int qc = Math.Min(panelRows, n - q0);
                using var pair = Concatenate(x, p0, pc, q0, qc);
                var radii = WithShrinkingTiles(() => KnnCore(pair, allKs, kmax, Slice()));
                refinement += radii.Refinement;
                for (int i = 0; i < pc + qc; i++)
                {
                    int row = i < pc ? p0 + i : q0 + i - pc;
                    var pairList = new double[m];
                    for (int k = 1; k <= kmax; k++) pairList[k] = radii[k - 1][i];
                    pools[row].AddRange(MultisetDifference(pairList, own[row]));
                }
                progress?.Report((double)++done / passes);
            }
        }
        var result = new double[ks.Count][];
        for (int q = 0; q < ks.Count; q++) result[q] = new double[n];
        for (int i = 0; i < n; i++)
        {
            var pool = pools[i];
            pool.Sort();
            for (int q = 0; q < ks.Count; q++) result[q][i] = pool[ks[q]];
        }
        return new KnnRadii(result, refinement);
    }

    /// <summary>a ⊖ b for sorted multisets of values: each value of b cancels one equal value of a.</summary>
    internal static List<double> MultisetDifference(double[] a, double[] b)
    {
        var result = new List<double>();
        int j = 0;
        foreach (double v in a)
        {
            while (j < b.Length && b[j] < v) j++;
            if (j < b.Length && b[j] == v) j++;
            else result.Add(v);
        }
        return result;
    }

    /// <summary>Rows [p0, p0 + pc) then [q0, q0 + qc) of <paramref name="x"/> as one matrix (a host copy, native beyond one array).</summary>
    private static FeatureMatrix Concatenate(FeatureMatrix x, int p0, int pc, int q0, int qc)
    {
        var pair = FeatureMatrix.Allocate(pc + qc, x.Dim, $"{x.Name} rows {p0}..{p0 + pc - 1} and {q0}..{q0 + qc - 1}");
        int per = pair.RowsPerSpan;
        for (int done = 0; done < pc + qc;)
        {
            int from = done < pc ? p0 + done : q0 + done - pc;
            int count = Math.Min(per, done < pc ? pc - done : pc + qc - done);
            x.RowRange(from, count).CopyTo(pair.WritableRowRange(done, count));
            done += count;
        }
        return pair;
    }

    /// <summary>
    /// Whether the statistics pass can upload <paramref name="m"/> whole (float32, shared with the k-NN passes when
    /// retained); otherwise its float64 row blocks stream through the accumulator (same statistics to rounding).
    /// </summary>
    private bool StatisticsFitResident(FeatureMatrix m, int blockRows)
    {
        if (RetainedBytes(m) > 0) return true;
        long budget = PlanningBudget(0);
        long need = m.Count * sizeof(float) + (long)blockRows * m.Dim * sizeof(double) + 2L * m.Dim * sizeof(double) * (m.Rows / 512 + 2);
        if (need <= budget) return true;
        PanelNotice($"statistics of {m.Name} [{m.Rows}, {m.Dim}] from float64 row blocks");
        return false;
    }

    private void PanelNotice(string what)
    {
        if (_panelNoticeGiven) return;
        _panelNoticeGiven = true;
        _notice?.Invoke($"cuda: sets larger than device memory are streamed in row panels (slower, same results); first: {what}");
    }

    private static T[][] NewArrays<T>(int count, int length)
    {
        var result = new T[count][];
        for (int k = 0; k < count; k++) result[k] = new T[length];
        return result;
    }

    /// <summary>Frees the device copies <see cref="RetainInputs"/> keeps (they are made again on next use).</summary>
    private void ReleaseRetainedCopies()
    {
        foreach (var set in _retained.Keys.ToList())
        {
            _retained[set]?.Dispose();
            _retained[set] = null;
        }
    }

    private long RetainedBytes(FeatureMatrix m) =>
        _retained.TryGetValue(m, out var kept) && kept is not null ? kept.Values.Count * sizeof(float) : 0;

    /// <summary>A panel pair's progress as a share of the whole pass.</summary>
    private sealed class Progress(IProgress<double> whole, int pair, int pairs) : IProgress<double>
    {
        public void Report(double value) => whole.Report((pair + Math.Clamp(value, 0, 1)) / pairs);
    }
}
