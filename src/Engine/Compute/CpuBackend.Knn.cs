using GenMetrics.Features;

namespace GenMetrics.Compute;

public sealed partial class CpuBackend
{
    public KnnRadii KnnRadiiSquared(FeatureMatrix x, IReadOnlyList<int> ks, IProgress<double>? progress = null)
    {
        int kmax = ValidateKs(x, ks);
        int n = x.Rows;
        int capacity = Math.Min(n, kmax + 1 + ExactRadii.ExtraCandidates);
        var tiles = new SquaredDistanceTiles(x, x, MeanAsShift(x));
        var terms = DistanceErrorBound.For("fp32", x.Dim, DistanceErrorBound.CpuAccumulationLength(x.Dim)).RowTerms(tiles.RowNorms);
        var termsUp = Array.ConvertAll(terms, DistanceErrorBound.Up);
        int rowBlock = SquaredDistanceTiles.PreferredRowBlock;
        int colBlock = Math.Min(SquaredDistanceTiles.PreferredColBlock, n);

        // d²(i, j) = d²(j, i): only tiles reaching the upper triangle (j ≥ i) are computed, and each
        // distance there is offered to both rows i and j. That halves the GEMM work; the waste is the lower
        // part of the tiles straddling the diagonal. Each thread keeps, per row, the candidates with the
        // smallest lower-bound keys d̃ − e(j) (ExactRadii) and the threads' lists are merged at the end.
        var work = new List<(int RowStart, int ColStart)>();
        for (int r0 = 0; r0 < n; r0 += rowBlock)
            for (int c0 = 0; c0 < n; c0 += colBlock)
                if (c0 + Math.Min(colBlock, n - c0) - 1 >= r0) work.Add((r0, c0));
        var done = new BlockProgress(work.Count, progress);
        var perThread = new List<KSmallest>();
        RunRowBlocks(work.Count, () => (Worker: tiles.CreateWorker(), Tile: new float[rowBlock * colBlock], Smallest: new KSmallest(n, capacity)), (s, w) =>
        {
            var (r0, c0) = work[w];
            int rowCount = Math.Min(rowBlock, n - r0), colCount = Math.Min(colBlock, n - c0);
            var t = s.Tile.AsSpan(0, rowCount * colCount);
            s.Worker.Compute(r0, rowCount, c0, colCount, t);
            var colTerms = termsUp.AsSpan(c0, colCount);
            for (int i = 0; i < rowCount; i++)
            {
                int row = r0 + i;
                int from = Math.Max(0, row - c0);
                if (from >= colCount) continue;
                var values = t.Slice(i * colCount, colCount);
                float rowTerm = termsUp[row];
                if (c0 + from == row)
                {
                    // The row's own distance is 0 by definition (metrics-spec §0), whatever the rounding.
                    s.Smallest.Offer(row, -rowTerm, row);
                    from++;
                }
                float worst = s.Smallest.Worst(row);
                for (int j = from; j < colCount; j++)
                {
                    float key = values[j] - colTerms[j];
                    if (key < worst)
                    {
                        s.Smallest.Offer(row, key, c0 + j);
                        worst = s.Smallest.Worst(row);
                    }
                    s.Smallest.Offer(c0 + j, values[j] - rowTerm, row);
                }
            }
            done.Advance();
        }, s =>
        {
            lock (perThread) perThread.Add(s.Smallest);
        });

        var merged = perThread[0];
        for (int p = 1; p < perThread.Count; p++)
        {
            for (int i = 0; i < n; i++)
            {
                var keys = perThread[p].Keys(i);
                var indices = perThread[p].Indices(i);
                for (int t = 0; t < keys.Length; t++) merged.Offer(i, keys[t], indices[t]);
            }
        }
        return FinishExactRadii(x, ks, kmax, merged, terms);
    }

    /// <summary>Candidates → float64 distances → exact radii, rows in parallel (ExactRadii).</summary>
    private static KnnRadii FinishExactRadii(FeatureMatrix x, IReadOnlyList<int> ks, int kmax, KSmallest kept, double[] terms)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        int n = x.Rows;
        var radii = NewArrays<double>(ks.Count, n);
        long decisions = 0, distances = 0;
        Parallel.For(0, n, () => (Decisions: 0L, Distances: 0L), (i, _, acc) =>
        {
            Span<int> candidates = stackalloc int[kept.Capacity];
            Span<double> r = stackalloc double[ks.Count];
            int count = ExactRadii.SelectCandidates(kept.Keys(i), kept.Indices(i), kept.IsFull(i), terms[i], terms, kmax, candidates);
            double[] exact;
            if (count < 0)
            {
                // More near-ties than candidates kept: the row against every row, in float64.
                exact = new double[n];
                for (int j = 0; j < n; j++) exact[j] = j == i ? 0 : DistanceErrorBound.ExactSquaredDistance(x.Row(i), x.Row(j));
                acc.Distances += n - 1;
                acc.Decisions += 1;
            }
            else
            {
                exact = new double[count];
                for (int c = 0; c < count; c++)
                {
                    int j = candidates[c];
                    exact[c] = j == i ? 0 : DistanceErrorBound.ExactSquaredDistance(x.Row(i), x.Row(j));
                    if (j != i) acc.Distances++;
                }
            }
            acc.Decisions += ExactRadii.Finish(exact, ks, kmax, r);
            for (int q = 0; q < ks.Count; q++) radii[q][i] = r[q];
            return acc;
        }, acc =>
        {
            Interlocked.Add(ref decisions, acc.Decisions);
            Interlocked.Add(ref distances, acc.Distances);
        });
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new KnnRadii(radii, new RefinementCounts(decisions, distances, seconds));
    }

    public CrossReductions ReduceCrossDistances(FeatureMatrix fake, FeatureMatrix real, CrossRequest request, IProgress<double>? progress = null)
    {
        if (fake.Dim != real.Dim)
            throw new InputException($"{fake.Name} has {fake.Dim} features per row, {real.Name} has {real.Dim}: dimensions must match");
        if (fake.Rows == 0) throw InputException.For(fake.Name, "no samples");
        if (real.Rows == 0) throw InputException.For(real.Name, "no samples");
        int nk = request.RealRadiiSquared.Count;
        if (request.FakeRadiiSquared.Count != nk) throw new ArgumentException("real and fake radii must hold the same number of k values");
        for (int q = 0; q < nk; q++)
        {
            if (request.RealRadiiSquared[q].Length != real.Rows || request.FakeRadiiSquared[q].Length != fake.Rows)
                throw new ArgumentException("radii lengths must equal the set sizes");
        }
        var realismRadii = request.RealismRadiiSquared;
        if (realismRadii is not null && realismRadii.Length != real.Rows) throw new ArgumentException("realism radii length must equal N_real");
        float eps = request.RealismEpsilon;

        int nFake = fake.Rows, nReal = real.Rows;
        var realRadii = request.RealRadiiSquared;
        var fakeRadii = request.FakeRadiiSquared;
        var countLe = NewArrays<int>(nk, nFake);
        var countLt = NewArrays<int>(nk, nFake);
        var complement = NewArrays<bool>(nk, nFake);
        var insideLe = NewArrays<bool>(nk, nReal);
        var insideLt = NewArrays<bool>(nk, nReal);
        var covered = NewArrays<bool>(nk, nReal);
        var fakeNearest = new float[nFake];
        var fakeNearestIndex = new int[nFake];
        var realNearest = new float[nReal];
        Array.Fill(realNearest, float.PositiveInfinity);
        var realism = realismRadii is null ? null : new float[nFake];

        // Distances are translation invariant; shifting by the real mean centres the data and reduces
        // the cancellation error of the Gram form ‖a‖² + ‖b‖² − 2a·b.
        var tiles = new SquaredDistanceTiles(fake, real, MeanAsShift(real));
        var bound = DistanceErrorBound.For("fp32", fake.Dim, DistanceErrorBound.CpuAccumulationLength(fake.Dim));
        var thresholds = new CrossThresholds(bound.RowTerms(tiles.RowNorms), bound.RowTerms(tiles.ColumnNorms), realRadii, fakeRadii, realismRadii);
        int rowBlock = SquaredDistanceTiles.PreferredRowBlock;
        int colBlock = Math.Min(SquaredDistanceTiles.PreferredColBlock, nReal);
        int blocks = (nFake + rowBlock - 1) / rowBlock;
        var done = new BlockProgress(blocks, progress);
        var merge = new object();
        long refinedDecisions = 0, refinedDistances = 0, refinedTicks = 0;
        int threadsUsed = 0;

        RunRowBlocks(blocks, () => new CrossWorkerState(tiles.CreateWorker(), rowBlock * colBlock, nk, nReal, rowBlock), (s, b) =>
        {
            int rowStart = b * rowBlock, rowCount = Math.Min(rowBlock, nFake - rowStart);
            for (int i = 0; i < rowCount; i++)
            {
                fakeNearest[rowStart + i] = float.PositiveInfinity;
                fakeNearestIndex[rowStart + i] = -1;
                s.RealismBest[i] = double.NegativeInfinity;
                s.RealismLower[i] = float.NegativeInfinity;
                s.RealismEvaluated[i] = 0;
            }
            for (int colStart = 0; colStart < nReal; colStart += colBlock)
            {
                int colCount = Math.Min(colBlock, nReal - colStart);
                var t = s.Tile.AsSpan(0, rowCount * colCount);
                s.Worker.Compute(rowStart, rowCount, colStart, colCount, t);
                for (int i = 0; i < rowCount; i++)
                {
                    int g = rowStart + i;
                    var row = t.Slice(i * colCount, colCount);

                    float best = fakeNearest[g];
                    int bestIndex = fakeNearestIndex[g];
                    var colMin = s.RealNearest.AsSpan(colStart, colCount);
                    for (int j = 0; j < row.Length; j++)
                    {
                        float d = row[j];
                        if (d < best) { best = d; bestIndex = colStart + j; }
                        if (d < colMin[j]) colMin[j] = d;
                    }
                    fakeNearest[g] = best;
                    fakeNearestIndex[g] = bestIndex;

                    if (nk > 0) DecideRow(s, fake, real, thresholds, realRadii, fakeRadii, g, colStart, row, countLe, countLt, complement);
                    if (realism is not null) RealismRow(s, fake, real, thresholds, realismRadii!, eps, g, i, colStart, row);
                }
            }
            if (realism is not null)
                for (int i = 0; i < rowCount; i++) realism[rowStart + i] = (float)s.RealismBest[i];
            done.Advance();
        }, s =>
        {
            lock (merge)
            {
                for (int j = 0; j < nReal; j++)
                    if (s.RealNearest[j] < realNearest[j]) realNearest[j] = s.RealNearest[j];
                for (int q = 0; q < nk; q++)
                    for (int j = 0; j < nReal; j++)
                    {
                        insideLe[q][j] |= s.InsideLe[q][j];
                        insideLt[q][j] |= s.InsideLt[q][j];
                        covered[q][j] |= s.Covered[q][j];
                    }
                refinedDecisions += s.RefinedDecisions;
                refinedDistances += s.RefinedDistances;
                refinedTicks += s.RefinedTicks;
                threadsUsed++;
            }
        });

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
            // Refinement ran inside the workers: their summed time over the threads is its share of the wall time.
            Refinement = new RefinementCounts(refinedDecisions, refinedDistances,
                (double)refinedTicks / System.Diagnostics.Stopwatch.Frequency / Math.Max(1, threadsUsed)),
        };
    }

    /// <summary>
    /// Every membership decision of one fake row against one column block: certain where the float32 distance
    /// and its error bound say so, recomputed in float64 (once per pair) where the margin is inside the bound.
    /// One pass per k over contiguous spans settles the certain decisions and notes the columns with an
    /// uncertain one; only those columns then get the float64 distance (normally none or a few per row).
    /// The j-outer, k-inner form with jagged-array lookups in the hot loop cost the demo ~70% more CPU than
    /// the float32-only reduction before it (perf/NOTES.md, "CLI FID from statistics ..., demo").
    /// </summary>
    private static void DecideRow(CrossWorkerState s, FeatureMatrix fake, FeatureMatrix real, CrossThresholds th,
        IReadOnlyList<double[]> realRadii, IReadOnlyList<double[]> fakeRadii, int g, int colStart, ReadOnlySpan<float> row,
        int[][] countLe, int[][] countLt, bool[][] complement)
    {
        int nk = realRadii.Count, n = row.Length;
        float eg = th.FakeTerms[g];
        var realTerms = th.RealTerms.AsSpan(colStart, n);
        var uncertain = s.Uncertain;
        uncertain.Clear();
        for (int q = 0; q < nk; q++)
        {
            var realLow = th.RealLow[q].AsSpan(colStart, n);
            var realHigh = th.RealHigh[q].AsSpan(colStart, n);
            var covered = s.Covered[q].AsSpan(colStart, n);
            var insideLe = s.InsideLe[q].AsSpan(colStart, n);
            var insideLt = s.InsideLt[q].AsSpan(colStart, n);
            float fakeLow = th.FakeLow[q][g], fakeHigh = th.FakeHigh[q][g];
            int cLe = 0;
            bool inside = false;
            for (int j = 0; j < n; j++)
            {
                float d = row[j], ej = realTerms[j];
                // Against the real radius r_j: |d̃ − d| ≤ e_g + e_j, and RealLow/RealHigh already hold r_j ∓ e_j.
                if (d + eg < realLow[j])
                {
                    cLe++;
                    covered[j] = true;
                }
                else if (d - eg <= realHigh[j]) uncertain.Add(j);
                // Against the fake radius ρ_g: FakeLow/FakeHigh hold ρ_g ∓ e_g.
                if (d + ej < fakeLow)
                {
                    insideLe[j] = true;
                    insideLt[j] = true;
                    inside = true;
                }
                else if (d - ej <= fakeHigh) uncertain.Add(j);
            }
            // A certain decision is inside for ≤ and < alike.
            countLe[q][g] += cLe;
            countLt[q][g] += cLe;
            if (inside) complement[q][g] = true;
        }
        if (uncertain.Count == 0) return;

        // The uncertain decisions, column by column (each column's float64 distance computed once for all k).
        uncertain.Sort();
        int previous = -1;
        foreach (int j in uncertain)
        {
            if (j == previous) continue;
            previous = j;
            float d = row[j], ej = realTerms[j];
            int col = colStart + j;
            double exact = s.Exact(fake, real, g, col);
            for (int q = 0; q < nk; q++)
            {
                if (!(d + eg < th.RealLow[q][col]) && d - eg <= th.RealHigh[q][col])
                {
                    double r = realRadii[q][col];
                    s.RefinedDecisions++;
                    if (exact <= r) countLe[q][g]++;
                    if (exact < r)
                    {
                        countLt[q][g]++;
                        s.Covered[q][col] = true;
                    }
                }
                if (!(d + ej < th.FakeLow[q][g]) && d - ej <= th.FakeHigh[q][g])
                {
                    double rho = fakeRadii[q][g];
                    s.RefinedDecisions++;
                    if (exact <= rho) s.InsideLe[q][col] = true;
                    if (exact < rho)
                    {
                        s.InsideLt[q][col] = true;
                        complement[q][g] = true;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Realism max_j P_j / (d(g, r_j) + ε) of one fake row over one column block, exactly: the largest lower
    /// bound of the ratio so far is known after one sweep, and only columns whose upper bound reaches it are
    /// recomputed in float64 (normally the one maximum).
    /// </summary>
    private static void RealismRow(CrossWorkerState s, FeatureMatrix fake, FeatureMatrix real, CrossThresholds th,
        double[] realismRadii, float eps, int g, int i, int colStart, ReadOnlySpan<float> row)
    {
        float eg = th.FakeTerms[g];
        var realTerms = th.RealTerms.AsSpan(colStart, row.Length);
        var pLow = th.RealismLow!.AsSpan(colStart, row.Length);
        var pHigh = th.RealismHigh!.AsSpan(colStart, row.Length);
        float lower = s.RealismLower[i];
        for (int j = 0; j < row.Length; j++)
        {
            float ratio = pLow[j] / (row[j] + eg + realTerms[j] + eps) * CrossThresholds.RatioDown;
            if (ratio > lower) lower = ratio;
        }
        s.RealismLower[i] = lower;
        double best = s.RealismBest[i];
        for (int j = 0; j < row.Length; j++)
        {
            float low = row[j] - eg - realTerms[j];
            float upper = pHigh[j] / ((low > 0 ? low : 0) + eps) * CrossThresholds.RatioUp;
            if (!(upper >= lower)) continue;
            double exact = s.Exact(fake, real, g, colStart + j);
            double ratio = realismRadii[colStart + j] / (exact + eps);
            if (ratio > best || double.IsNegativeInfinity(best)) best = ratio;
            // The first evaluation of a row is its maximum; each further one is a near-tie float32 could not settle.
            if (s.RealismEvaluated[i]++ > 0) s.RefinedDecisions++;
        }
        s.RealismBest[i] = best;
    }

    private sealed class CrossWorkerState(SquaredDistanceTiles.Worker worker, int tileSize, int nk, int nReal, int rowBlock)
    {
        public SquaredDistanceTiles.Worker Worker { get; } = worker;
        public float[] Tile { get; } = new float[tileSize];
        public float[] RealNearest { get; } = Filled(nReal, float.PositiveInfinity);
        public bool[][] InsideLe { get; } = NewArrays<bool>(nk, nReal);
        public bool[][] InsideLt { get; } = NewArrays<bool>(nk, nReal);
        public bool[][] Covered { get; } = NewArrays<bool>(nk, nReal);
        public double[] RealismBest { get; } = new double[rowBlock];
        public float[] RealismLower { get; } = new float[rowBlock];
        public long RefinedDecisions { get; set; }
        public long RefinedDistances { get; private set; }
        public long RefinedTicks { get; private set; }
        public int[] RealismEvaluated { get; } = new int[rowBlock];

        /// <summary>Columns of the current row with an uncertain decision (see DecideRow); reused row after row.</summary>
        public List<int> Uncertain { get; } = [];

        /// <summary>d(fake g, real j) in float64 (timed and counted as refinement).</summary>
        public double Exact(FeatureMatrix fake, FeatureMatrix real, int g, int j)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            double exact = DistanceErrorBound.ExactSquaredDistance(fake.Row(g), real.Row(j));
            RefinedDistances++;
            RefinedTicks += System.Diagnostics.Stopwatch.GetTimestamp() - start;
            return exact;
        }

        private static float[] Filled(int n, float value)
        {
            var a = new float[n];
            Array.Fill(a, value);
            return a;
        }
    }

    private static T[][] NewArrays<T>(int count, int length)
    {
        var arrays = new T[count][];
        for (int q = 0; q < count; q++) arrays[q] = new T[length];
        return arrays;
    }

    internal static int ValidateKs(FeatureMatrix x, IReadOnlyList<int> ks)
    {
        if (ks.Count == 0) throw new ArgumentException("at least one k is needed", nameof(ks));
        int kmax = 0;
        foreach (int k in ks)
        {
            if (k < 1) throw InputException.For(x.Name, $"k must be at least 1, got {k}");
            kmax = Math.Max(kmax, k);
        }
        if (x.Rows <= kmax)
            throw InputException.For(x.Name, $"needs at least k+1 = {kmax + 1} samples for k = {kmax}, has {x.Rows}");
        return kmax;
    }

    /// <summary>Column means (accumulated in float64, rounded to float32) used as the distance shift.</summary>
    internal static float[] MeanAsShift(FeatureMatrix x)
    {
        var sum = new double[x.Dim];
        for (int i = 0; i < x.Rows; i++)
        {
            var row = x.Row(i);
            for (int c = 0; c < row.Length; c++) sum[c] += row[c];
        }
        var mean = new float[x.Dim];
        for (int c = 0; c < mean.Length; c++) mean[c] = (float)(sum[c] / Math.Max(x.Rows, 1));
        return mean;
    }

    /// <summary>
    /// Runs body(state, block) for every row block on up to ProcessorCount threads, each with its own
    /// state (tile buffer, worker, column reductions); finish(state) runs once per state at the end.
    /// </summary>
    private static void RunRowBlocks<TState>(int blocks, Func<TState> createState, Action<TState, int> body, Action<TState> finish)
    {
        int next = -1;
        int threads = Math.Max(1, Math.Min(Environment.ProcessorCount, blocks));
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            var state = createState();
            int b;
            while ((b = Interlocked.Increment(ref next)) < blocks) body(state, b);
            finish(state);
        });
    }

    private sealed class BlockProgress(int total, IProgress<double>? progress)
    {
        private int _done;

        public void Advance()
        {
            int done = Interlocked.Increment(ref _done);
            progress?.Report((double)done / total);
        }
    }
}
