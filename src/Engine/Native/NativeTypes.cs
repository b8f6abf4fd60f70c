using System.Runtime.InteropServices;

namespace GenMetrics.Native;

/// <summary>genmetrics_status of include/genmetrics.h. Values are part of the ABI: never renumber.</summary>
public enum NativeStatus
{
    Ok = 0,
    Input = 1,
    Argument = 2,
    Backend = 3,
    Internal = 4,
}

/// <summary>genmetrics_dtype of include/genmetrics.h.</summary>
public enum NativeDType
{
    Float32 = 0,
    Float64 = 1,
}

/// <summary>genmetrics_features: a caller-owned row-major buffer, read only during one call.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NativeFeatures
{
    public void* Data;
    public long Rows;
    public long Dim;
    public int DType;
}

/// <summary>genmetrics_prdc_result (API version 2 added PrdcPrecision and PrdcRecall at the end).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NativePrdcResult
{
    /// <summary>NVIDIA improved precision (d ≤ radius): key `precision`.</summary>
    public double Precision;
    /// <summary>NVIDIA improved recall (d ≤ radius): key `recall`.</summary>
    public double Recall;
    public double Density;
    public double Coverage;
    /// <summary>clovaai/prdc precision (strict d &lt; radius): key `prdc_precision`.</summary>
    public double PrdcPrecision;
    /// <summary>clovaai/prdc recall (strict d &lt; radius): key `prdc_recall`.</summary>
    public double PrdcRecall;
}

/// <summary>
/// A misuse of the C API (NULL pointer, unknown dtype, output buffer too small): GENMETRICS_E_ARGUMENT.
/// Kept apart from <see cref="ArgumentException"/>, which inside the engine means a bug.
/// </summary>
internal sealed class NativeArgumentException(string message) : Exception(message);

/// <summary>The requested backend cannot be created: GENMETRICS_E_BACKEND.</summary>
internal sealed class NativeBackendException(string message) : Exception(message);
