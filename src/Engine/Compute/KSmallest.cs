namespace GenMetrics.Compute;

/// <summary>
/// The <c>capacity</c> smallest keys seen so far for each row, each with the index it came from, kept sorted
/// ascending in flat arrays (row r owns [r*capacity, (r+1)*capacity)). Capacity is a few dozen at most, so
/// insertion into a sorted array beats any heap; most candidates are rejected by one comparison against the
/// current worst. A key that is not kept is ≥ every key kept once the row is full.
/// </summary>
internal sealed class KSmallest
{
    private readonly float[] _keys;
    private readonly int[] _indices;
    private readonly int[] _counts;

    public KSmallest(int rows, int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity));
        Capacity = capacity;
        _keys = new float[(long)rows * capacity];
        _indices = new int[(long)rows * capacity];
        _counts = new int[rows];
    }

    public int Capacity { get; }

    /// <summary>Offers one key (with its index) to row <paramref name="row"/>.</summary>
    public void Offer(int row, float key, int index)
    {
        int cap = Capacity;
        int count = _counts[row];
        var keys = _keys.AsSpan(row * cap, cap);
        var indices = _indices.AsSpan(row * cap, cap);
        if (count == cap)
        {
            if (key >= keys[cap - 1]) return;
            Insert(keys, indices, cap - 1, key, index);
        }
        else
        {
            _counts[row] = Insert(keys, indices, count, key, index);
        }
    }

    /// <summary>The largest key kept, or +∞ while the row is not full (then nothing was dropped).</summary>
    public float Worst(int row) => _counts[row] == Capacity ? _keys[row * Capacity + Capacity - 1] : float.PositiveInfinity;

    /// <summary>The keys kept for <paramref name="row"/>, ascending.</summary>
    public ReadOnlySpan<float> Keys(int row) => new(_keys, row * Capacity, _counts[row]);

    /// <summary>The indices of <see cref="Keys"/>, in the same order.</summary>
    public ReadOnlySpan<int> Indices(int row) => new(_indices, row * Capacity, _counts[row]);

    /// <summary>Whether some key offered to the row was dropped (the row is full).</summary>
    public bool IsFull(int row) => _counts[row] == Capacity;

    // Inserts into the sorted prefix [0, count), dropping the last element when full; returns the new count.
    private static int Insert(Span<float> keys, Span<int> indices, int count, float key, int index)
    {
        int j = count;
        if (j == keys.Length) j--;
        while (j > 0 && keys[j - 1] > key)
        {
            keys[j] = keys[j - 1];
            indices[j] = indices[j - 1];
            j--;
        }
        keys[j] = key;
        indices[j] = index;
        return Math.Min(count + 1, keys.Length);
    }
}
