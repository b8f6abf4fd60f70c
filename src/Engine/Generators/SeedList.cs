using System.Globalization;

namespace GenMetrics.Generators;

/// <summary>
/// Seed lists as StyleGAN's scripts write them: "1,2,5-100,999" (values and inclusive ranges, in any mix).
/// The order is kept as written and duplicates are allowed ("3,3" generates seed 3 twice), as StyleGAN's
/// <c>num_range</c> does; every seed is a 32-bit unsigned value because numpy's RandomState takes no more.
/// </summary>
public static class SeedList
{
    /// <summary>The most seeds one list may expand to, so that a typo such as "0-4000000000" fails fast.</summary>
    public const int MaxCount = 10_000_000;

    public static uint[] Parse(string text, string source = "--seeds")
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text)) throw InputException.For(source, "empty seed list");
        var seeds = new List<uint>();
        foreach (string rawItem in text.Split(','))
        {
            string item = rawItem.Trim();
            if (item.Length == 0) throw InputException.For(source, $"empty entry in seed list '{text}'");
            // A leading '-' is not a range: negative seeds are refused by ParseSeed.
            int dash = item.IndexOf('-', 1);
            if (dash < 0)
            {
                seeds.Add(ParseSeed(item, text, source));
            }
            else
            {
                uint first = ParseSeed(item[..dash].Trim(), text, source);
                uint last = ParseSeed(item[(dash + 1)..].Trim(), text, source);
                if (last < first) throw InputException.For(source, $"reversed range '{item}' in seed list (write {last}-{first})");
                if (seeds.Count + (long)(last - first) + 1 > MaxCount)
                    throw InputException.For(source, $"seed list '{text}' holds more than {MaxCount} seeds");
                for (ulong s = first; s <= last; s++) seeds.Add((uint)s);
            }
            if (seeds.Count > MaxCount) throw InputException.For(source, $"seed list '{text}' holds more than {MaxCount} seeds");
        }
        return seeds.ToArray();
    }

    private static uint ParseSeed(string token, string text, string source)
    {
        if (token.Length == 0 || !token.All(char.IsAsciiDigit))
            throw InputException.For(source, $"'{token}' in seed list '{text}' is not a seed (seeds are whole numbers 0..{uint.MaxValue}, ranges are A-B)");
        if (!uint.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out uint seed))
            throw InputException.For(source, $"seed {token} is beyond the 32-bit unsigned range (0..{uint.MaxValue}) that numpy's RandomState accepts");
        return seed;
    }
}
