namespace GenMetrics.Evaluation;

/// <summary>
/// How many samples per set each metric group needs: FID from features and KID at least 2 (a
/// covariance, an unbiased MMD), the k-NN groups more than their largest k (a sample is not its own
/// neighbour). When no groups were asked for ("all that the inputs allow"), groups the sizes do not
/// allow are left out with a note naming them, instead of stopping the whole run.
/// </summary>
internal static class SampleRequirements
{
    /// <summary>Null when <paramref name="group"/> can run on these sizes, else why not.</summary>
    public static string? Shortfall(MetricGroup group, MetricInput real, MetricInput fake, IReadOnlyList<int>? ks)
    {
        var info = MetricRegistry.Get(group);
        int need;
        string why;
        if (info.DefaultK is int defaultK)
        {
            int k = ks is { Count: > 0 } ? ks.Max() : defaultK;
            need = k + 1;
            why = $"k = {k} needs at least {need} samples per set";
        }
        else
        {
            need = 2;
            why = $"needs at least 2 samples per set";
        }
        foreach (var input in new[] { real, fake })
        {
            var matrix = info.DefaultK is null ? input.Features : input.KnnFeatures;
            if (matrix is null) continue; // statistics: FID needs no count; a missing feature set is reported elsewhere
            if (matrix.Rows < need) return $"{info.Name}: {why}, {input.Name} has {matrix.Rows}";
        }
        return null;
    }

    /// <summary>
    /// The groups of <paramref name="candidates"/> that these sizes allow; the others go to
    /// <paramref name="skipped"/> as notes. When none is left, an <see cref="InputException"/> gives every reason.
    /// </summary>
    public static List<MetricGroup> Allowed(IEnumerable<MetricGroup> candidates, MetricInput real, MetricInput fake, IReadOnlyList<int>? ks, List<string> skipped)
    {
        var allowed = new List<MetricGroup>();
        var reasons = new List<string>();
        foreach (var g in candidates)
        {
            if (Shortfall(g, real, fake, ks) is { } reason) reasons.Add(reason);
            else allowed.Add(g);
        }
        if (allowed.Count == 0 && reasons.Count > 0)
            throw new InputException($"no metric can be computed from {real.Name} and {fake.Name}: {string.Join("; ", reasons)}");
        skipped.AddRange(reasons.Select(r => $"skipped {r} (ask for it with --metrics to make this an error)"));
        return allowed;
    }
}
