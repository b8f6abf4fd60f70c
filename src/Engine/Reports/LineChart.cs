using System.Globalization;
using System.Text;
using GenMetrics.Imaging;
using SkiaSharp;

namespace GenMetrics.Reports;

/// <summary>One named curve of a <see cref="LineChart"/>; <see cref="Color"/> is "#rrggbb".</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, string Color);

/// <summary>
/// A small line chart (several named series with markers, ticks on nice numbers, a legend) rendered to SVG
/// text by our own code and to PNG through SkiaSharp from the same layout. Non-finite points are left out
/// of the drawing (a failed FID at one psi leaves a gap in the data, not a broken chart). Axis ranges are
/// the data's range widened by 5% on each side unless set explicitly; <see cref="ReverseX"/> draws the x
/// axis from its maximum on the left to its minimum on the right, as truncation sweeps are shown
/// (psi 1.0 -> 0.3).
/// </summary>
public sealed class LineChart
{
    public const int DefaultWidth = 640;
    public const int DefaultHeight = 400;

    // matplotlib's "tab10" colours: distinct, and what readers of the papers' plots are used to.
    private static readonly string[] Palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    private const double FontSize = 12, TitleFontSize = 15;
    // Text widths are estimated, not measured, so that the SVG (measured by the viewer's font) and the PNG
    // get the same layout on every machine; 0.6 em per character is generous for sans-serif digits and Latin.
    private const double CharWidthEm = 0.6;

    private readonly List<ChartSeries> series = [];

    public string Title { get; set; } = "";
    public string XLabel { get; set; } = "";
    public string YLabel { get; set; } = "";
    public bool ReverseX { get; set; }
    public double? XMin { get; set; }
    public double? XMax { get; set; }
    public double? YMin { get; set; }
    public double? YMax { get; set; }

    public IReadOnlyList<ChartSeries> Series => series;

    /// <summary>Adds a curve drawn through <paramref name="points"/> in the given order; the colour defaults to the next palette entry.</summary>
    public ChartSeries AddSeries(string name, IEnumerable<(double X, double Y)> points, string? color = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(points);
        color ??= Palette[series.Count % Palette.Length];
        if (color.Length != 7 || color[0] != '#' || !color.Skip(1).All(char.IsAsciiHexDigit))
            throw new ArgumentException($"series colour must be #rrggbb, got \"{color}\"", nameof(color));
        var added = new ChartSeries(name, points.ToArray(), color);
        series.Add(added);
        return added;
    }

    public string ToSvg(int width = DefaultWidth, int height = DefaultHeight) => SvgWriter.Write(Layout(width, height), width, height);

    /// <summary>The chart as pixels; text is drawn with the first usable font Skia finds (see docs/reports.md).</summary>
    public RgbImage Render(int width, int height) => SkiaPainter.Paint(Layout(width, height), width, height);

    public byte[] ToPng(int width = DefaultWidth, int height = DefaultHeight) => PngWriter.Encode(Render(width, height));

    public void SaveSvg(string path, int width = DefaultWidth, int height = DefaultHeight) =>
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(ToSvg(width, height)));

    public void SavePng(string path, int width = DefaultWidth, int height = DefaultHeight) =>
        AtomicFile.WriteAllBytes(path, ToPng(width, height));

    /// <summary>The plot area in pixels and the data ranges it shows; the mapping every shape of the chart uses.</summary>
    internal sealed record Frame(double Left, double Top, double Right, double Bottom,
        double XLow, double XHigh, double YLow, double YHigh, bool ReverseX)
    {
        public double MapX(double x)
        {
            double t = (x - XLow) / (XHigh - XLow);
            return Left + (ReverseX ? 1 - t : t) * (Right - Left);
        }

        public double MapY(double y) => Bottom - (y - YLow) / (YHigh - YLow) * (Bottom - Top);
    }

    internal Frame ComputeFrame(int width, int height)
    {
        if (width < 200 || height < 150)
            throw new ArgumentOutOfRangeException(nameof(width), $"a chart needs at least 200x150 pixels, got {width}x{height}");
        var finite = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
        var (xLow, xHigh) = Range(finite.Select(p => p.X), XMin, XMax);
        var (yLow, yHigh) = Range(finite.Select(p => p.Y), YMin, YMax);
        double left = 72, top = Title.Length > 0 ? 40 : 20, bottom = height - 52;
        double right = width - 20 - (series.Count > 0 ? LegendWidth() + 10 : 0);
        if (right - left < 60 || bottom - top < 60)
            throw new ArgumentOutOfRangeException(nameof(width), $"{width}x{height} leaves no room for the plot next to the legend");
        return new Frame(left, top, right, bottom, xLow, xHigh, yLow, yHigh, ReverseX);
    }

    private double LegendWidth()
    {
        int longest = series.Max(s => s.Name.Length);
        return 16 + 24 + 6 + Math.Min(longest, 40) * CharWidthEm * FontSize;
    }

    private static (double Low, double High) Range(IEnumerable<double> values, double? fixedLow, double? fixedHigh)
    {
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        foreach (var v in values)
        {
            low = Math.Min(low, v);
            high = Math.Max(high, v);
        }
        if (low > high) (low, high) = (0, 1);
        else if (low == high)
        {
            double half = low == 0 ? 1 : Math.Abs(low) * 0.1;
            (low, high) = (low - half, high + half);
        }
        else
        {
            double margin = 0.05 * (high - low);
            (low, high) = (low - margin, high + margin);
        }
        low = fixedLow ?? low;
        high = fixedHigh ?? high;
        if (!double.IsFinite(low) || !double.IsFinite(high) || !(high > low))
            throw new ArgumentException($"axis range [{low}, {high}] must be finite and increasing");
        return (low, high);
    }

    internal List<ChartShape> Layout(int width, int height)
    {
        var frame = ComputeFrame(width, height);
        var shapes = new List<ChartShape> { new RectShape(0, 0, width, height, "#ffffff", "#ffffff") };
        const string Grid = "#e6e6e6", Ink = "#000000";

        var xTicks = NiceTicks.Ticks(frame.XLow, frame.XHigh);
        var yTicks = NiceTicks.Ticks(frame.YLow, frame.YHigh);
        int xDecimals = NiceTicks.Decimals(NiceTicks.Step(frame.XLow, frame.XHigh));
        int yDecimals = NiceTicks.Decimals(NiceTicks.Step(frame.YLow, frame.YHigh));

        foreach (var x in xTicks)
        {
            double px = frame.MapX(x);
            shapes.Add(new LineShape(px, frame.Top, px, frame.Bottom, Grid, 1));
            shapes.Add(new LineShape(px, frame.Bottom, px, frame.Bottom + 5, Ink, 1));
            shapes.Add(new TextShape(px, frame.Bottom + 18, FormatTick(x, xDecimals), FontSize, TextAnchor.Middle));
        }
        foreach (var y in yTicks)
        {
            double py = frame.MapY(y);
            shapes.Add(new LineShape(frame.Left, py, frame.Right, py, Grid, 1));
            shapes.Add(new LineShape(frame.Left - 5, py, frame.Left, py, Ink, 1));
            shapes.Add(new TextShape(frame.Left - 8, py + 4, FormatTick(y, yDecimals), FontSize, TextAnchor.End));
        }
        shapes.Add(new RectShape(frame.Left, frame.Top, frame.Right - frame.Left, frame.Bottom - frame.Top, Ink, null));

        double centreX = (frame.Left + frame.Right) / 2, centreY = (frame.Top + frame.Bottom) / 2;
        if (Title.Length > 0) shapes.Add(new TextShape(centreX, 26, Title, TitleFontSize, TextAnchor.Middle, Bold: true));
        if (XLabel.Length > 0) shapes.Add(new TextShape(centreX, height - 12, XLabel, FontSize, TextAnchor.Middle));
        if (YLabel.Length > 0) shapes.Add(new TextShape(18, centreY, YLabel, FontSize, TextAnchor.Middle, Vertical: true));

        foreach (var s in series)
        {
            var points = s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))
                .Select(p => (frame.MapX(p.X), frame.MapY(p.Y))).ToArray();
            if (points.Length > 1) shapes.Add(new PolylineShape(points, s.Color, 2));
            foreach (var (px, py) in points) shapes.Add(new CircleShape(px, py, 3.5, s.Color));
        }

        if (series.Count > 0)
        {
            double legendLeft = frame.Right + 10, rowHeight = 20;
            shapes.Add(new RectShape(legendLeft, frame.Top, LegendWidth(), 8 + rowHeight * series.Count, "#999999", "#ffffff"));
            for (int i = 0; i < series.Count; i++)
            {
                double rowY = frame.Top + 4 + rowHeight * (i + 0.5);
                double sampleLeft = legendLeft + 8;
                shapes.Add(new LineShape(sampleLeft, rowY, sampleLeft + 24, rowY, series[i].Color, 2));
                shapes.Add(new CircleShape(sampleLeft + 12, rowY, 3.5, series[i].Color));
                var name = series[i].Name.Length > 40 ? series[i].Name[..39] + "…" : series[i].Name;
                shapes.Add(new TextShape(sampleLeft + 30, rowY + 4, name, FontSize, TextAnchor.Start));
            }
        }
        return shapes;
    }

    private static string FormatTick(double value, int decimals) =>
        value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
