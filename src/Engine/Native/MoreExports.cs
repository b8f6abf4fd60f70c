using System.Runtime.InteropServices;
using GenMetrics.Evaluation;
using GenMetrics.Features;
using GenMetrics.Metrics;

namespace GenMetrics.Native;

/// <summary>
/// The C API's statistics, symmetric precision/recall and Inception Score (include/genmetrics.h): the
/// calls the Python package needs beyond the original set. Same rules as <see cref="Exports"/>: validate,
/// copy, run through the engine's façade, turn every exception into a status and a message.
/// </summary>
public static unsafe class MoreExports
{
    [UnmanagedCallersOnly(EntryPoint = "genmetrics_statistics")]
    public static NativeStatus Statistics(nint context, NativeFeatures* features, int covarianceDivisor, double* outMu, double* outSigma, long dimCapacity)
    {
        try
        {
            LastError.Clear();
            var ctx = NativeContexts.Get(context);
            Exports.RequireOutput(outMu, "out_mu");
            Exports.RequireOutput(outSigma, "out_sigma");
            CallerFeatures.Validate(features, "features");
            if (covarianceDivisor is not (0 or 1))
                throw new NativeArgumentException($"covariance_divisor is {covarianceDivisor} (expected GENMETRICS_COV_N_MINUS_1 = 0 or GENMETRICS_COV_N = 1)");
            if (dimCapacity < features->Dim)
                throw new NativeArgumentException($"dim_capacity is {dimCapacity}, smaller than the {features->Dim} features per sample");
            Exports.RequireRows(features, "features", 2, "a covariance");
            lock (ctx.Gate)
            {
                var options = new EvaluationOptions { CovarianceDivisor = covarianceDivisor == 0 ? CovarianceDivisor.NMinusOne : CovarianceDivisor.N };
                var stats = Evaluator.ComputeStatistics(CallerFeatures.ToInput(features, "features"), options, ctx.Backend);
                stats.Mean.AsSpan().CopyTo(new Span<double>(outMu, stats.Dim));
                new ReadOnlySpan<double>(stats.Covariance).CopyTo(new Span<double>(outSigma, stats.Covariance.Length));
            }
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_symmetric_precision_recall")]
    public static NativeStatus SymmetricPrecisionRecall(nint context, NativeFeatures* real, NativeFeatures* fake, int k, NativeSymmetricResult* output)
    {
        try
        {
            LastError.Clear();
            var ctx = NativeContexts.Get(context);
            Exports.RequireOutput(output, "out");
            CallerFeatures.ValidatePair(real, fake);
            Exports.RequireK(k);
            Exports.RequireRows(real, "real", (long)k + 1, $"k = {k}");
            Exports.RequireRows(fake, "fake", (long)k + 1, $"k = {k}");
            lock (ctx.Gate)
            {
                var result = Evaluator.Evaluate(CallerFeatures.ToInput(real, "real"), CallerFeatures.ToInput(fake, "fake"),
                    new EvaluationOptions { Groups = [MetricGroup.Sym], Ks = [k], CompareWithFp32 = false }, ctx.Backend);
                *output = new NativeSymmetricResult
                {
                    SymmetricPrecision = result["sym_precision"],
                    SymmetricRecall = result["sym_recall"],
                    ComplementPrecision = result["comp_precision"],
                };
            }
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "genmetrics_inception_score")]
    public static NativeStatus InceptionScoreExport(nint context, NativeFeatures* logits, int splits, int shuffle, int seed, double* outMean, double* outStd)
    {
        try
        {
            LastError.Clear();
            NativeContexts.Get(context);
            Exports.RequireOutput(outMean, "out_mean");
            CallerFeatures.Validate(logits, "logits");
            if (splits < 1) throw new InputException($"Inception Score needs at least 1 split, got {splits}");
            if (seed < 0) throw new InputException($"seed must be non-negative, got {seed}");
            var result = InceptionScore.Compute(CallerFeatures.ToMatrix(logits, "logits"), splits, shuffle != 0, seed);
            *outMean = result.Mean;
            if (outStd != null) *outStd = result.Std;
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.Set(e);
        }
    }
}

/// <summary>genmetrics_symmetric_result.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NativeSymmetricResult
{
    public double SymmetricPrecision;
    public double SymmetricRecall;
    public double ComplementPrecision;
}
