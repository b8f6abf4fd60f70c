using GenMetrics.Features;

namespace GenMetrics.Compute;

public sealed partial class CpuBackend
{
    public float[][] KnnRadiiSquared(FeatureMatrix x, IReadOnlyList<int> ks, IProgress<double>? progress = null)
    {
        int kmax = ValidateKs(x, ks);
        int n = x.Rows;
        int capacity = kmax + 1;
        var tiles = new SquaredDistanceTiles(x, x, MeanAsShift(x));
        int rowBlock = SquaredDistanceTiles.PreferredRowBlock;
        int colBlock = Math.Min(SquaredDistanceTiles.PreferredColBlock, n);

        // d²(i, j) = d²(j, i): only tiles reaching the upper triangle (j ≥ i) are computed, and each
        // distance there is offered to both rows i and j. That halves the GEMM work; the waste is the lower
        // part of the tiles straddling the diagonal. Each thread keeps the k+1 smallest of every row
        // (a few floats per row) and the threads' lists are merged at the end.
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
            for (int i = 0; i < rowCount; i++)
            {
                int row = r0 + i;
                int from = Math.Max(0, row - c0);
                if (from >= colCount) continue;
                var values = t.Slice(i * colCount, colCount);
                if (c0 + from == row)
                {
                    // The row's own distance is 0 by definition (metrics-spec §0), whatever the rounding.
                    s.Smallest.Offer(row, 0f);
                    from++;
                }
                s.Smallest.OfferAll(row, values[from..]);
                for (int j = from; j < colCount; j++) s.Smallest.Offer(c0 + j, values[j]);
            }
            done.Advance();
        }, s =>
        {
            lock (perThread) perThread.Add(s.Smallest);
        });

        var merged = perThread[0];
        for (int p = 1; p < perThread.Count; p++)
            for (int i = 0; i < n; i++) merged.OfferAll(i, perThread[p].Kept(i));

        var radii = new float[ks.Count][];
        for (int q = 0; q < ks.Count; q++)
        {
            radii[q] = new float[n];
            // Value-based (k+1)-th smallest, the row's own 0 included (metrics-spec §0).
            for (int i = 0; i < n; i++) radii[q][i] = merged.Get(i, ks[q]);
        }
        return radii;
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
        var insideLe = NewArrays<bool>(nk, nReal);
        var insideLt = NewArrays<bool>(nk, nReal);
        var fakeNearest = new float[nFake];
        var fakeNearestIndex = new int[nFake];
        var realNearest = new float[nReal];
        Array.Fill(realNearest, float.PositiveInfinity);
        var realism = realismRadii is null ? null : new float[nFake];

        // Distances are translation invariant; shifting by the real mean centres the data and reduces
        // the cancellation error of the Gram form ‖a‖² + ‖b‖² − 2a·b.
        var tiles = new SquaredDistanceTiles(fake, real, MeanAsShift(real));
        int rowBlock = SquaredDistanceTiles.PreferredRowBlock;
        int colBlock = Math.Min(SquaredDistanceTiles.PreferredColBlock, nReal);
        int blocks = (nFake + rowBlock - 1) / rowBlock;
        var done = new BlockProgress(blocks, progress);
        var merge = new object();

        RunRowBlocks(blocks, () => new CrossWorkerState(tiles.CreateWorker(), rowBlock * colBlock, nk, nReal), (s, b) =>
        {
            int rowStart = b * rowBlock, rowCount = Math.Min(rowBlock, nFake - rowStart);
            for (int i = 0; i < rowCount; i++)
            {
                fakeNearest[rowStart + i] = float.PositiveInfinity;
                fakeNearestIndex[rowStart + i] = -1;
                if (realism is not null) realism[rowStart + i] = float.NegativeInfinity;
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

                    for (int q = 0; q < nk; q++)
                    {
                        var rReal = realRadii[q].AsSpan(colStart, colCount);
                        float rFake = fakeRadii[q][g];
                        var le = s.InsideLe[q].AsSpan(colStart, colCount);
                        var lt = s.InsideLt[q].AsSpan(colStart, colCount);
                        int cLe = 0, cLt = 0;
                        for (int j = 0; j < row.Length; j++)
                        {
                            float d = row[j], r = rReal[j];
                            cLe += d <= r ? 1 : 0;
                            cLt += d < r ? 1 : 0;
                            if (d <= rFake) le[j] = true;
                            if (d < rFake) lt[j] = true;
                        }
                        countLe[q][g] += cLe;
                        countLt[q][g] += cLt;
                    }

                    if (realism is not null)
                    {
                        var rr = realismRadii.AsSpan(colStart, colCount);
                        float maxRatio = realism[g];
                        for (int j = 0; j < row.Length; j++)
                        {
                            float ratio = rr[j] / (row[j] + eps);
                            if (ratio > maxRatio) maxRatio = ratio;
                        }
                        realism[g] = maxRatio;
                    }
                }
            }
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
                    }
            }
        });

        return new CrossReductions
        {
            FakeInsideRealCountLe = countLe,
            FakeInsideRealCountLt = countLt,
            RealInsideFakeLe = insideLe,
            RealInsideFakeLt = insideLt,
            FakeNearestRealDistanceSquared = fakeNearest,
            FakeNearestRealIndex = fakeNearestIndex,
            RealNearestFakeDistanceSquared = realNearest,
            Realism = realism,
        };
    }

    private sealed class CrossWorkerState(SquaredDistanceTiles.Worker worker, int tileSize, int nk, int nReal)
    {
        public SquaredDistanceTiles.Worker Worker { get; } = worker;
        public float[] Tile { get; } = new float[tileSize];
        public float[] RealNearest { get; } = Filled(nReal, float.PositiveInfinity);
        public bool[][] InsideLe { get; } = NewArrays<bool>(nk, nReal);
        public bool[][] InsideLt { get; } = NewArrays<bool>(nk, nReal);

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

    private static int ValidateKs(FeatureMatrix x, IReadOnlyList<int> ks)
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
