using GenMetrics.Cuda;

namespace GenMetrics.Tests.Cuda;

/// <summary>
/// One CUDA backend per fixture, opened once in the given precision; <see cref="Cuda"/> ignores the test with
/// the reason (no driver, no device, or the error that opening it gave) where no CUDA device is usable.
/// </summary>
public abstract class CudaDeviceTests(CudaPrecision precision = CudaPrecision.Fp32)
{
    private CudaBackend? _cuda;
    private string? _unavailable;

    /// <summary>The precision the backend was opened with.</summary>
    protected CudaPrecision Precision { get; } = precision;

    [OneTimeSetUp]
    public void OpenDevice()
    {
        var report = CudaAvailability.Probe();
        if (report.UnavailableReason is not null) return;
        try
        {
            _cuda = CudaBackend.Create(Precision);
        }
        catch (Exception e) when (e is GenMetrics.Cuda.Interop.CudaException or InvalidOperationException)
        {
            _unavailable = e.Message;
        }
    }

    [OneTimeTearDown]
    public void CloseDevice() => _cuda?.Dispose();

    protected CudaBackend Cuda()
    {
        if (_cuda is null) Assert.Ignore($"CUDA unavailable: {_unavailable ?? CudaAvailability.Probe().UnavailableReason}");
        return _cuda!;
    }
}
