namespace GenMetrics.Compute;

/// <summary>
/// The <c>capacity</c> smallest values seen so far for each of a block of rows, kept sorted ascending
/// in one flat array (row r owns Values[r*capacity .. (r+1)*capacity)). Capacity is kmax+1, a handful,
/// so insertion into a sorted array beats any heap; most candidates are rejected by one comparison
/// against the current worst.
/// </summary>
internal sealed class KSmallest
{
    private readonly float[] _values;
    private readonly int[] _counts;

    public KSmallest(int rows, int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity));
        Capacity = capacity;
        _values = new float[(long)rows * capacity];
        _counts = new int[rows];
    }

    public int Capacity { get; }

    /// <summary>Forgets all values (the rows are reused for the next row block).</summary>
    public void Clear() => Array.Clear(_counts);

    /// <summary>Offers every value of <paramref name="candidates"/> to row <paramref name="row"/>.</summary>
    public void OfferAll(int row, ReadOnlySpan<float> candidates)
    {
        int cap = Capacity;
        var kept = _values.AsSpan(row * cap, cap);
        int count = _counts[row];
        int i = 0;
        // Fill phase: fewer than capacity values kept, every candidate gets in.
        for (; i < candidates.Length && count < cap; i++)
            count = Insert(kept, count, candidates[i]);
        float worst = count == cap ? kept[cap - 1] : float.PositiveInfinity;
        for (; i < candidates.Length; i++)
        {
            float v = candidates[i];
            if (v >= worst) continue;
            Insert(kept, cap - 1, v);
            worst = kept[cap - 1];
        }
        _counts[row] = count;
    }

    /// <summary>Offers one value to row <paramref name="row"/>.</summary>
    public void Offer(int row, float v)
    {
        int cap = Capacity;
        int count = _counts[row];
        var kept = _values.AsSpan(row * cap, cap);
        if (count == cap)
        {
            if (v >= kept[cap - 1]) return;
            Insert(kept, cap - 1, v);
        }
        else
        {
            _counts[row] = Insert(kept, count, v);
        }
    }

    /// <summary>The values kept for <paramref name="row"/>, ascending.</summary>
    public ReadOnlySpan<float> Kept(int row) => new(_values, row * Capacity, _counts[row]);

    // Inserts v into the sorted prefix kept[0..count), dropping the last element when full; returns the new count.
    private static int Insert(Span<float> kept, int count, float v)
    {
        int j = count;
        if (j == kept.Length) j--;
        while (j > 0 && kept[j - 1] > v)
        {
            kept[j] = kept[j - 1];
            j--;
        }
        kept[j] = v;
        return Math.Min(count + 1, kept.Length);
    }

    /// <summary>The (index+1)-th smallest value offered to <paramref name="row"/> (index 0 = the smallest).</summary>
    public float Get(int row, int index)
    {
        if (index >= _counts[row]) throw new InvalidOperationException($"row {row} holds only {_counts[row]} values");
        return _values[row * Capacity + index];
    }
}
