using GenMetrics.Compute;

namespace GenMetrics.Metrics;

/// <summary>
/// The per-sample yes/no decisions behind the k-NN metrics, for each k: per fake, whether it lies in some
/// real ball (≤, NVIDIA precision; &lt;, prdc precision) and whether its nearest real lies strictly inside
/// its own ball (complement precision); per real, whether it lies in some fake ball (≤, NVIDIA recall;
/// &lt;, prdc recall) and whether its nearest fake lies strictly inside its own ball (coverage).
/// Comparing two of these counts what a cheaper arithmetic (tf32, fp16 distance GEMMs) changed.
/// </summary>
public sealed class MembershipDecisions
{
    private readonly bool[][][] _fake; // [k][decision][fake]
    private readonly bool[][][] _real; // [k][decision][real]

    private MembershipDecisions(IReadOnlyList<int> ks, bool[][][] fake, bool[][][] real, int fakeCount, int realCount)
    {
        Ks = ks;
        _fake = fake;
        _real = real;
        FakeCount = fakeCount;
        RealCount = realCount;
    }

    /// <summary>Decisions per sample and k: three per fake, three per real.</summary>
    public const int PerSample = 3;

    public IReadOnlyList<int> Ks { get; }
    public int FakeCount { get; }
    public int RealCount { get; }

    /// <summary>Number of decisions: 3·(fakes + reals) per k.</summary>
    public long Count => (long)PerSample * (FakeCount + RealCount) * Ks.Count;

    /// <summary>The decisions of one k-NN pass; reductions in the order of <paramref name="ks"/>.</summary>
    public static MembershipDecisions From(IReadOnlyList<int> ks, CrossReductions cross)
    {
        ArgumentNullException.ThrowIfNull(ks);
        ArgumentNullException.ThrowIfNull(cross);
        int nFake = cross.FakeNearestRealDistanceSquared.Length, nReal = cross.RealNearestFakeDistanceSquared.Length;
        var fake = new bool[ks.Count][][];
        var real = new bool[ks.Count][][];
        for (int q = 0; q < ks.Count; q++)
        {
            var inLe = new bool[nFake];
            var inLt = new bool[nFake];
            for (int g = 0; g < nFake; g++)
            {
                inLe[g] = cross.FakeInsideRealCountLe[q][g] > 0;
                inLt[g] = cross.FakeInsideRealCountLt[q][g] > 0;
            }
            fake[q] = [inLe, inLt, (bool[])cross.FakeComplementLt[q].Clone()];
            real[q] = [(bool[])cross.RealInsideFakeLe[q].Clone(), (bool[])cross.RealInsideFakeLt[q].Clone(), (bool[])cross.RealCoveredLt[q].Clone()];
        }
        return new MembershipDecisions(ks.ToArray(), fake, real, nFake, nReal);
    }

    /// <summary>How many decisions differ from <paramref name="reference"/> (same sets, same k).</summary>
    public MembershipComparison CompareWith(MembershipDecisions reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (!reference.Ks.SequenceEqual(Ks) || reference.FakeCount != FakeCount || reference.RealCount != RealCount)
            throw new ArgumentException($"decisions of different passes: k {string.Join(",", Ks)} over {FakeCount} x {RealCount} vs k {string.Join(",", reference.Ks)} over {reference.FakeCount} x {reference.RealCount}");
        long changed = 0;
        for (int q = 0; q < Ks.Count; q++)
        {
            for (int d = 0; d < PerSample; d++)
            {
                changed += Differences(_fake[q][d], reference._fake[q][d]);
                changed += Differences(_real[q][d], reference._real[q][d]);
            }
        }
        return new MembershipComparison(Count, changed);
    }

    private static long Differences(bool[] a, bool[] b)
    {
        long n = 0;
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i]) n++;
        return n;
    }
}

/// <summary>Decisions compared and how many of them differ.</summary>
public sealed record MembershipComparison(long Compared, long Changed)
{
    public double ChangedFraction => Compared == 0 ? 0 : (double)Changed / Compared;
}
