using GenMetrics.Imaging;

namespace GenMetrics.Tests.Imaging;

/// <summary>The decode queue's order and memory bound, checked on the queue itself (no timing).</summary>
public class BatchQueueTests
{
    sealed class Buffer(int size)
    {
        public readonly int[] Items = new int[size];
    }

    [TestCase(1000, 7, 3, 4)]
    [TestCase(1000, 1, 1, 3)]
    [TestCase(5, 64, 3, 8)]
    [TestCase(0, 4, 2, 2)]
    public void BatchesArriveInOrderAndWorkersNeverRunMoreThanDepthAhead(int count, int batch, int depth, int workers)
    {
        int consumed = 0, maxAhead = 0, violations = 0;
        var rng = new Random(count + batch);
        var delays = Enumerable.Range(0, count).Select(_ => rng.Next(3) == 0).ToArray();
        var lockObject = new object();
        using var queue = new BatchQueue<Buffer>(count, batch, depth, workers, () => new Buffer(batch), (buffer, item, i) =>
        {
            int ahead = item / batch - Volatile.Read(ref consumed);
            lock (lockObject)
            {
                maxAhead = Math.Max(maxAhead, ahead);
                if (ahead >= depth) violations++;
            }
            // Some items are slow, so that later items finish first.
            if (delays[item]) Thread.SpinWait(2000);
            buffer.Items[i] = item;
        });
        int expected = 0, batches = 0;
        foreach (var (buffer, start, n) in queue.Batches())
        {
            Assert.That(start, Is.EqualTo(expected));
            Assert.That(buffer.Items.AsSpan(0, n).ToArray(), Is.EqualTo(Enumerable.Range(start, n).ToArray()));
            expected += n;
            batches++;
            // A slow consumer: the workers fill ahead meanwhile, and must stop at the bound.
            if (batches % 5 == 0) Thread.Sleep(1);
            Volatile.Write(ref consumed, batches);
        }
        Assert.That(expected, Is.EqualTo(count));
        Assert.That(violations, Is.Zero, $"a worker started an item {maxAhead} batches ahead of the consumer with depth {depth}");
        Assert.That(queue.BuffersAllocated, Is.LessThanOrEqualTo(depth));
        if (count >= batch * depth) Assert.That(queue.BuffersAllocated, Is.EqualTo(depth));
    }

    [Test]
    public void MemoryStaysAtDepthBuffersForAMillionItems()
    {
        using var queue = new BatchQueue<Buffer>(1_000_000, 32, 4, 2, () => new Buffer(32), (buffer, item, i) => buffer.Items[i] = item);
        long sum = 0;
        foreach (var (buffer, _, n) in queue.Batches())
            for (int i = 0; i < n; i++) sum += buffer.Items[i];
        Assert.That(sum, Is.EqualTo(999_999L * 1_000_000 / 2));
        Assert.That(queue.BuffersAllocated, Is.EqualTo(4));
    }

    [Test]
    public void AFailingFillIsRethrownAndAnAbandonedQueueStopsItsWorkers()
    {
        var failing = new BatchQueue<Buffer>(100, 4, 2, 3, () => new Buffer(4), (_, item, _) =>
        {
            if (item == 9) throw new InvalidOperationException("boom");
        });
        var e = Assert.Throws<AggregateException>(() => { foreach (var _ in failing.Batches()) { } });
        Assert.That(e!.InnerException, Is.InstanceOf<InvalidOperationException>());
        failing.Dispose();

        int filled = 0;
        var abandoned = new BatchQueue<Buffer>(10_000, 4, 2, 3, () => new Buffer(4), (_, _, _) => Interlocked.Increment(ref filled));
        foreach (var _ in abandoned.Batches()) break;
        abandoned.Dispose();
        int after = Volatile.Read(ref filled);
        Thread.Sleep(20);
        // Stopped: no fill after Dispose returned, and no more than the bound was ever filled.
        Assert.That(Volatile.Read(ref filled), Is.EqualTo(after));
        Assert.That(after, Is.LessThanOrEqualTo(3 * 4));
    }
}
