using GenMetrics.Generators;

namespace GenMetrics.Tests.Generators;

public class SeedListTests
{
    [Test]
    public void ValuesAndRangesKeepTheirOrder()
    {
        Assert.That(SeedList.Parse("1,2,5-8,999"), Is.EqualTo(new uint[] { 1, 2, 5, 6, 7, 8, 999 }));
        Assert.That(SeedList.Parse("10-12,3"), Is.EqualTo(new uint[] { 10, 11, 12, 3 }));
        Assert.That(SeedList.Parse(" 4 , 1 - 2 "), Is.EqualTo(new uint[] { 4, 1, 2 }));
        Assert.That(SeedList.Parse("7-7"), Is.EqualTo(new uint[] { 7 }));
    }

    [Test]
    public void DuplicatesAreKept() => Assert.That(SeedList.Parse("3,3,2-3"), Is.EqualTo(new uint[] { 3, 3, 2, 3 }));

    [Test]
    public void TheWhole32BitRangeIsAccepted()
    {
        Assert.That(SeedList.Parse("0,4294967295"), Is.EqualTo(new uint[] { 0, uint.MaxValue }));
        Assert.That(SeedList.Parse("4294967294-4294967295"), Is.EqualTo(new uint[] { uint.MaxValue - 1, uint.MaxValue }));
    }

    [TestCase("", "empty seed list")]
    [TestCase("  ", "empty seed list")]
    [TestCase("1,,2", "empty entry")]
    [TestCase("1,", "empty entry")]
    [TestCase("a", "'a'")]
    [TestCase("1.5", "'1.5'")]
    [TestCase("-3", "'-3'")]
    [TestCase("+3", "'+3'")]
    [TestCase("1-2-3", "'2-3'")]
    [TestCase("5-", "''")]
    [TestCase("9-2", "reversed range '9-2'")]
    [TestCase("4294967296", "beyond the 32-bit unsigned range")]
    [TestCase("1-99999999999", "beyond the 32-bit unsigned range")]
    [TestCase("0-4294967295", "more than")]
    public void MalformedListsAreInputErrors(string text, string expected)
    {
        var e = Assert.Throws<InputException>(() => SeedList.Parse(text));
        Assert.That(e!.Message, Does.StartWith("--seeds: ").And.Contain(expected));
    }
}
