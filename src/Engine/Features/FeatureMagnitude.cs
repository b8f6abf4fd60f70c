namespace GenMetrics.Features;

/// <summary>
/// Refuses features whose magnitude makes float32 distance arithmetic overflow: a squared distance
/// ‖x − y‖² can reach 4·D·max|x|², and once that passes float32's 3.4e38 every distance is +∞, every
/// "d ≤ radius" comparison is ∞ ≤ ∞, and precision/recall come out 1.0 with exit 0.
/// </summary>
internal static class FeatureMagnitude
{
    /// <summary>Headroom below float.MaxValue for sums of D squared terms accumulated in any order.</summary>
    const double Limit = float.MaxValue / 16.0;

    /// <summary>Throws an <see cref="InputException"/> naming the stage, the file and the largest value when distances would overflow.</summary>
    public static void EnsureDistancesFit(string stage, params FeatureMatrix[] sets)
    {
        foreach (var m in sets)
        {
            float max = 0;
            long at = -1;
            int per = m.RowsPerSpan;
            for (int start = 0; start < m.Rows; start += per)
            {
                var values = m.RowRange(start, Math.Min(per, m.Rows - start));
                for (int i = 0; i < values.Length; i++)
                {
                    float a = Math.Abs(values[i]);
                    if (a > max)
                    {
                        max = a;
                        at = (long)start * m.Dim + i;
                    }
                }
            }
            if (4.0 * m.Dim * max * (double)max > Limit)
                throw InputException.For(m.Name, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{stage}: row {at / m.Dim}, column {at % m.Dim} is {m[(int)(at / m.Dim), (int)(at % m.Dim)]:G4}; squared distances between features this large overflow float32 (above 3.4e38): rescale the features"));
        }
    }
}
