using GenMetrics.Verification;

namespace GenMetrics.Tests.Cuda;

public class BackendVerifierTests
{
    [Test]
    public void RelativeDifferenceUsesAFloorForExactZeros()
    {
        // scale 100 → floor 1e-4: a residue of 1e-7 on a true 0 is 1e-3 relative, not infinite.
        double d = BackendVerifier.MaxRelative([0f, 2f], [1e-7f, 2f], 100);
        Assert.That(d, Is.EqualTo(1e-7 / 1e-4).Within(1e-6));
        Assert.That(BackendVerifier.MaxRelative([4f], [4.004f], 0), Is.EqualTo(1e-3).Within(1e-6));
        Assert.That(BackendVerifier.MaxRelative([1f], [float.NaN], 1), Is.EqualTo(double.PositiveInfinity));
        Assert.That(BackendVerifier.MaxRelative([1f], [1f, 2f], 1), Is.EqualTo(double.PositiveInfinity));
    }

    [Test]
    public void ScaledDifferenceIsRelativeToTheLargestEntry()
    {
        Assert.That(BackendVerifier.MaxScaledDifference([10, -20, 0], [10, -20, 2e-8]), Is.EqualTo(1e-9).Within(1e-15));
        Assert.That(BackendVerifier.MaxScaledDifference([0, 0], [0, 3]), Is.EqualTo(3));
    }

    [Test]
    public void LinePassesOnlyWithinTolerance()
    {
        Assert.That(new VerificationLine("c", "m", "q", 1e-10, 1e-9).Passed, Is.True);
        Assert.That(new VerificationLine("c", "m", "q", 2e-9, 1e-9).Passed, Is.False);
        Assert.That(new VerificationLine("c", "m", "q", double.PositiveInfinity, 0).Passed, Is.False);
    }
}
