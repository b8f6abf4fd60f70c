namespace GenMetrics.Imaging;

/// <summary>
/// A bounded, ordered producer/consumer queue of batches: <c>workers</c> threads fill items
/// [0, count) one at a time (each worker takes the next item, so a slow image delays only itself), into
/// at most <c>depth</c> batch buffers; the consumer receives the batches strictly in order. A worker
/// never starts an item of batch b before batch b − depth has been consumed, so memory is
/// O(batch size × depth) whatever <c>count</c> is, and the decoders run ahead of the network by at most
/// depth − 1 batches while it works on the oldest one.
/// </summary>
/// <typeparam name="TBuffer">One batch's storage, allocated lazily (at most <see cref="Depth"/> of them) and reused.</typeparam>
public sealed class BatchQueue<TBuffer> : IDisposable where TBuffer : class
{
    readonly int count, batchSize, batches;
    readonly Func<TBuffer> allocate;
    readonly Action<TBuffer, int, int> fill;
    readonly TBuffer?[] buffers;
    readonly int[] remaining;
    readonly object gate = new();
    readonly Task[] tasks;
    int next;          // the next item a worker takes
    int consumed;      // batches released by the consumer
    bool stopped;
    Exception? fault;

    /// <param name="count">Items in all.</param>
    /// <param name="batchSize">Items per batch (the last may hold fewer).</param>
    /// <param name="depth">Batch buffers in all (≥ 1): the one the consumer holds plus those being filled.</param>
    /// <param name="workers">Filling threads (≥ 1).</param>
    /// <param name="allocate">Creates one batch buffer.</param>
    /// <param name="fill">fill(buffer, item, indexInBatch): writes one item; runs concurrently for different items of the same buffer.</param>
    public BatchQueue(int count, int batchSize, int depth, int workers, Func<TBuffer> allocate, Action<TBuffer, int, int> fill)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        this.count = count;
        this.batchSize = batchSize;
        this.allocate = allocate;
        this.fill = fill;
        batches = (int)(((long)count + batchSize - 1) / batchSize);
        Depth = depth;
        buffers = new TBuffer?[depth];
        remaining = new int[depth];
        for (int b = 0; b < Math.Min(depth, batches); b++) remaining[b] = SizeOf(b);
        tasks = new Task[Math.Min(workers, Math.Max(count, 1))];
        for (int w = 0; w < tasks.Length; w++) tasks[w] = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Batch buffers in all, the bound on memory.</summary>
    public int Depth { get; }

    /// <summary>Buffers created so far (never more than <see cref="Depth"/>).</summary>
    public int BuffersAllocated { get; private set; }

    /// <summary>The batches in order: (buffer, first item, items). A buffer is reused once the enumeration moves past it.</summary>
    public IEnumerable<(TBuffer Buffer, int Start, int Count)> Batches()
    {
        for (int b = 0; b < batches; b++)
        {
            TBuffer buffer;
            lock (gate)
            {
                while (remaining[b % Depth] != 0 && fault is null && !stopped) Monitor.Wait(gate);
                if (fault is not null) throw new AggregateException("a batch worker failed", fault);
                if (stopped) throw new ObjectDisposedException(nameof(BatchQueue<TBuffer>));
                buffer = buffers[b % Depth]!;
            }
            yield return (buffer, b * batchSize, SizeOf(b));
            lock (gate)
            {
                // The buffer is free again: hand it to batch b + depth and wake the workers waiting for it.
                if (b + Depth < batches) remaining[b % Depth] = SizeOf(b + Depth);
                consumed = b + 1;
                Monitor.PulseAll(gate);
            }
        }
    }

    int SizeOf(int batch) => Math.Min(batchSize, count - batch * batchSize);

    void Work()
    {
        while (true)
        {
            int item = Interlocked.Increment(ref next) - 1;
            if (item >= count) return;
            int batch = item / batchSize, slot = batch % Depth;
            TBuffer buffer;
            lock (gate)
            {
                // Items are taken in order, so every item of the oldest unconsumed batch is already taken
                // and never waits here: the consumer always makes progress.
                while (batch - consumed >= Depth && !stopped && fault is null) Monitor.Wait(gate);
                if (stopped || fault is not null) return;
                if (buffers[slot] is null)
                {
                    buffers[slot] = allocate();
                    BuffersAllocated++;
                }
                buffer = buffers[slot]!;
            }
            try
            {
                fill(buffer, item, item - batch * batchSize);
            }
            catch (Exception e)
            {
                lock (gate)
                {
                    fault ??= e;
                    Monitor.PulseAll(gate);
                }
                return;
            }
            lock (gate)
            {
                if (--remaining[slot] == 0) Monitor.PulseAll(gate);
            }
        }
    }

    /// <summary>Stops the workers and waits for them, so no fill runs after this returns.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            stopped = true;
            Monitor.PulseAll(gate);
        }
        try { Task.WaitAll(tasks); } catch (AggregateException) { }
    }
}
