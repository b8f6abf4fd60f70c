namespace GenMetrics.Reports;

/// <summary>
/// What a chart draws, in pixel coordinates (origin top left, y down), independent of the output format.
/// <see cref="LineChart"/> lays out one scene; the SVG writer and the Skia painter only translate it, so
/// the two outputs cannot drift apart.
/// </summary>
internal abstract record ChartShape;

internal sealed record LineShape(double X1, double Y1, double X2, double Y2, string Stroke, double StrokeWidth) : ChartShape;

internal sealed record PolylineShape(IReadOnlyList<(double X, double Y)> Points, string Stroke, double StrokeWidth) : ChartShape;

internal sealed record CircleShape(double CenterX, double CenterY, double Radius, string Fill) : ChartShape;

/// <summary>An axis-aligned rectangle; <see cref="Fill"/> null means outline only.</summary>
internal sealed record RectShape(double X, double Y, double Width, double Height, string Stroke, string? Fill) : ChartShape;

internal enum TextAnchor { Start, Middle, End }

/// <summary>Text whose baseline starts, is centred or ends at (X, Y); Vertical turns it 90 degrees anticlockwise about that point.</summary>
internal sealed record TextShape(double X, double Y, string Text, double FontSize, TextAnchor Anchor, bool Vertical = false, bool Bold = false) : ChartShape;
