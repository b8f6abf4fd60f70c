using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GenMetrics.Compute;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Native;

/// <summary>
/// The C API of include/genmetrics.h, exported from the NativeAOT build (libgenmetrics.so). Thin callers
/// of <see cref="Evaluator"/> and <see cref="Realism"/>: every export validates its pointers, copies what
/// it needs, runs, writes its outputs, and turns any exception into a status plus a thread-local message.
/// No exception may escape an [UnmanagedCallersOnly] method: the process would be torn down.
/// </summary>
public static unsafe class Exports
{
    /// <summary>GENMETRICS_API_VERSION of include/genmetrics.h; change both together.</summary>
    public const int ApiVersion = 2;

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_api_version")]
    public static int GetApiVersion() => ApiVersion;

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_version")]
    public static byte* GetVersion() => LibraryInfo.VersionPointer;

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_instruction_set")]
    public static byte* GetInstructionSet() => LibraryInfo.InstructionSetPointer;

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_last_error")]
    public static byte* GetLastError() => LastError.Pointer;

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_context_create")]
    public static NativeStatus CreateContext(byte* backend, nint* outContext)
    {
        try
        {
            LastError.Clear();
            if (outContext == null) throw new NativeArgumentException("out_context is NULL");
            string spec = backend == null ? "auto" : Marshal.PtrToStringUTF8((nint)backend) ?? "auto";
            // "NAME" or "NAME:PRECISION" (cuda:tf32): the CLI's --backend and --precision in one string.
            int colon = spec.IndexOf(':');
            string name = colon < 0 ? spec : spec[..colon];
            string precision = colon < 0 ? "fp32" : spec[(colon + 1)..];
            IComputeBackend created;
            try
            {
                created = ComputeBackends.Create(name, precision: precision);
            }
            catch (InputException e)
            {
                // ComputeBackends words its messages for the CLI's --backend and --precision options.
                string message = e.Message;
                if (message.StartsWith("--backend ", StringComparison.Ordinal)) message = message["--backend ".Length..];
                else if (message.StartsWith("--precision ", StringComparison.Ordinal)) message = message["--".Length..];
                throw new NativeBackendException(message);
            }
            *outContext = NativeContexts.Add(new NativeContext(created));
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_context_destroy")]
    public static void DestroyContext(nint context)
    {
        try
        {
            LastError.Clear();
            var removed = NativeContexts.Remove(context);
            if (removed is null) return;
            lock (removed.Gate) removed.Backend.Dispose();
        }
        catch (Exception e)
        {
            LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_context_backend")]
    public static byte* GetContextBackend(nint context)
    {
        try
        {
            LastError.Clear();
            return NativeContexts.Get(context).Backend.Name == "cuda" ? StaticUtf8("cuda\0"u8) : StaticUtf8("cpu\0"u8);
        }
        catch (Exception e)
        {
            LastError.Set(e);
            return null;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_fid")]
    public static NativeStatus Fid(nint context, NativeFeatures* real, NativeFeatures* fake, double* outFid)
    {
        try
        {
            LastError.Clear();
            var ctx = NativeContexts.Get(context);
            RequireOutput(outFid, "out_fid");
            CallerFeatures.ValidatePair(real, fake);
            RequireRows(real, "real", 2, "FID (a covariance needs 2 samples)");
            RequireRows(fake, "fake", 2, "FID (a covariance needs 2 samples)");
            lock (ctx.Gate)
            {
                var result = Evaluator.Evaluate(CallerFeatures.ToInput(real, "real"), CallerFeatures.ToInput(fake, "fake"),
                    new EvaluationOptions { Groups = [MetricGroup.Fid] }, ctx.Backend);
                *outFid = result[MetricRegistry.Fid];
            }
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_fid_from_statistics")]
    public static NativeStatus FidFromStatistics(nint context, double* muReal, double* sigmaReal, double* muFake, double* sigmaFake, long dim, double* outFid)
    {
        try
        {
            LastError.Clear();
            var ctx = NativeContexts.Get(context);
            RequireOutput(outFid, "out_fid");
            if (muReal == null) throw new NativeArgumentException("mu_real is NULL");
            if (sigmaReal == null) throw new NativeArgumentException("sigma_real is NULL");
            if (muFake == null) throw new NativeArgumentException("mu_fake is NULL");
            if (sigmaFake == null) throw new NativeArgumentException("sigma_fake is NULL");
            if (dim < 1) throw new NativeArgumentException($"dim is {dim} (must be at least 1)");
            if (dim * (double)dim > Array.MaxLength) throw new InputException($"dim {dim}: a {dim} x {dim} covariance exceeds the engine's limit");
            var a = CopyStatistics(muReal, sigmaReal, (int)dim, "real");
            var b = CopyStatistics(muFake, sigmaFake, (int)dim, "fake");
            lock (ctx.Gate)
            {
                var result = Evaluator.Evaluate(MetricInput.FromStatistics(a), MetricInput.FromStatistics(b),
                    new EvaluationOptions { Groups = [MetricGroup.Fid] }, ctx.Backend);
                *outFid = result[MetricRegistry.Fid];
            }
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_prdc")]
    public static NativeStatus Prdc(nint context, NativeFeatures* real, NativeFeatures* fake, int k, NativePrdcResult* output)
    {
        try
        {
            LastError.Clear();
            var ctx = NativeContexts.Get(context);
            RequireOutput(output, "out");
            CallerFeatures.ValidatePair(real, fake);
            RequireK(k);
            // Radii are taken within each set, the sample itself included: k neighbours need k + 1 rows.
            RequireRows(real, "real", (long)k + 1, $"k = {k}");
            RequireRows(fake, "fake", (long)k + 1, $"k = {k}");
            lock (ctx.Gate)
            {
                var result = Evaluator.Evaluate(CallerFeatures.ToInput(real, "real"), CallerFeatures.ToInput(fake, "fake"),
                    // No fp32 comparison run: a tf32/fp16 context's decisions are exact (float64 refinement), as fp32's.
                    new EvaluationOptions { Groups = [MetricGroup.Pr, MetricGroup.Prdc], Ks = [k], CompareWithFp32 = false }, ctx.Backend);
                // Field by registry key: the struct's fields are the keys of groups pr and prdc.
                *output = new NativePrdcResult
                {
                    Precision = result[PrdcField("precision")],
                    Recall = result[PrdcField("recall")],
                    Density = result[PrdcField("density")],
                    Coverage = result[PrdcField("coverage")],
                    PrdcPrecision = result[PrdcField("prdc_precision")],
                    PrdcRecall = result[PrdcField("prdc_recall")],
                };
            }
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_realism")]
    public static NativeStatus RealismScores(nint context, NativeFeatures* real, NativeFeatures* fake, int k, float* outScores, long outCapacity)
    {
        try
        {
            LastError.Clear();
            var ctx = NativeContexts.Get(context);
            RequireOutput(outScores, "out_scores");
            CallerFeatures.ValidatePair(real, fake);
            RequireK(k);
            if (outCapacity < fake->Rows)
                throw new NativeArgumentException($"out_capacity is {outCapacity}, fewer than the {fake->Rows} fake rows to score");
            RequireRows(real, "real", (long)k + 1, $"k = {k}");
            lock (ctx.Gate)
            {
                var scores = Realism.Scores(CallerFeatures.ToMatrix(real, "real"), CallerFeatures.ToMatrix(fake, "fake"), ctx.Backend, k: k).Scores;
                scores.AsSpan().CopyTo(new Span<float>(outScores, scores.Length));
            }
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_kid")]
    public static NativeStatus Kid(nint context, NativeFeatures* real, NativeFeatures* fake, int subsets, int subsetSize, int seed, double* outMean, double* outStd)
    {
        try
        {
            LastError.Clear();
            var ctx = NativeContexts.Get(context);
            RequireOutput(outMean, "out_mean");
            CallerFeatures.ValidatePair(real, fake);
            if (subsets < 1) throw new InputException($"KID needs at least 1 subset, got {subsets}");
            if (subsetSize < 2) throw new InputException($"KID subset size must be at least 2, got {subsetSize}");
            if (seed < 0) throw new InputException($"seed must be non-negative, got {seed}");
            RequireRows(real, "real", 2, "KID");
            RequireRows(fake, "fake", 2, "KID");
            lock (ctx.Gate)
            {
                var result = Evaluator.Evaluate(CallerFeatures.ToInput(real, "real"), CallerFeatures.ToInput(fake, "fake"),
                    new EvaluationOptions { Groups = [MetricGroup.Kid], KidSubsets = subsets, KidSubsetSize = subsetSize, Seed = seed },
                    ctx.Backend);
                *outMean = result[MetricRegistry.KidMean];
                if (outStd != null) *outStd = result[MetricRegistry.KidStd];
            }
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    private static string PrdcField(string key) => MetricRegistry.Key(key).Name;

    internal static void RequireOutput(void* pointer, string name)
    {
        if (pointer == null) throw new NativeArgumentException($"{name} is NULL");
    }

    internal static void RequireK(int k)
    {
        if (k < 1) throw new NativeArgumentException($"k is {k} (must be at least 1)");
    }

    internal static void RequireRows(NativeFeatures* features, string name, long needed, string why)
    {
        if (features->Rows < needed)
            throw InputException.For(name, $"{features->Rows} samples, {why} needs at least {needed}");
    }

    private static GaussianStatistics CopyStatistics(double* mu, double* sigma, int dim, string name)
    {
        var mean = new ReadOnlySpan<double>(mu, dim).ToArray();
        var covariance = new ReadOnlySpan<double>(sigma, dim * dim).ToArray();
        for (int i = 0; i < mean.Length; i++)
            if (!double.IsFinite(mean[i])) throw InputException.For(name, $"mu[{i}] is {mean[i]} (statistics must be finite)");
        for (int i = 0; i < covariance.Length; i++)
            if (!double.IsFinite(covariance[i])) throw InputException.For(name, $"sigma[{i / dim}, {i % dim}] is {covariance[i]} (statistics must be finite)");
        return new GaussianStatistics(mean, covariance, 0, name);
    }

    // u8 literals live in the image's read-only data, so the address never moves.
    private static byte* StaticUtf8(ReadOnlySpan<byte> nulTerminated) =>
        (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(nulTerminated));
}
