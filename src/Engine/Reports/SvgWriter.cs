using System.Globalization;
using System.Text;

namespace GenMetrics.Reports;

/// <summary>
/// Plain SVG 1.1 for a chart scene. Output is a pure function of the scene: invariant-culture numbers with
/// at most two decimals, "\n" line ends, no timestamps or ids, so the same chart gives the same bytes.
/// </summary>
internal static class SvgWriter
{
    public static string Write(IReadOnlyList<ChartShape> shapes, int width, int height)
    {
        var svg = new StringBuilder();
        svg.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n");
        foreach (var shape in shapes)
        {
            switch (shape)
            {
                case LineShape l:
                    svg.Append($"<line x1=\"{N(l.X1)}\" y1=\"{N(l.Y1)}\" x2=\"{N(l.X2)}\" y2=\"{N(l.Y2)}\" stroke=\"{l.Stroke}\" stroke-width=\"{N(l.StrokeWidth)}\"/>\n");
                    break;
                case PolylineShape p:
                    svg.Append("<polyline fill=\"none\" stroke=\"").Append(p.Stroke).Append("\" stroke-width=\"").Append(N(p.StrokeWidth))
                        .Append("\" stroke-linejoin=\"round\" points=\"")
                        .AppendJoin(' ', p.Points.Select(q => $"{N(q.X)},{N(q.Y)}")).Append("\"/>\n");
                    break;
                case CircleShape c:
                    svg.Append($"<circle cx=\"{N(c.CenterX)}\" cy=\"{N(c.CenterY)}\" r=\"{N(c.Radius)}\" fill=\"{c.Fill}\"/>\n");
                    break;
                case RectShape r:
                    svg.Append($"<rect x=\"{N(r.X)}\" y=\"{N(r.Y)}\" width=\"{N(r.Width)}\" height=\"{N(r.Height)}\" fill=\"{r.Fill ?? "none"}\" stroke=\"{r.Stroke}\"/>\n");
                    break;
                case TextShape t:
                    var anchor = t.Anchor switch { TextAnchor.Start => "start", TextAnchor.Middle => "middle", _ => "end" };
                    svg.Append($"<text x=\"{N(t.X)}\" y=\"{N(t.Y)}\" font-size=\"{N(t.FontSize)}\" text-anchor=\"{anchor}\"");
                    if (t.Bold) svg.Append(" font-weight=\"bold\"");
                    if (t.Vertical) svg.Append($" transform=\"rotate(-90 {N(t.X)} {N(t.Y)})\"");
                    svg.Append('>').Append(Escape(t.Text)).Append("</text>\n");
                    break;
                default:
                    throw new InvalidOperationException($"no SVG form for {shape.GetType().Name}");
            }
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string N(double value)
    {
        var text = Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);
        return text == "-0" ? "0" : text;
    }

    /// <summary>XML text escaping; characters XML 1.0 cannot carry at all (most C0 controls) become U+FFFD.</summary>
    internal static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            switch (ch)
            {
                case '&': escaped.Append("&amp;"); break;
                case '<': escaped.Append("&lt;"); break;
                case '>': escaped.Append("&gt;"); break;
                case '"': escaped.Append("&quot;"); break;
                case '\'': escaped.Append("&apos;"); break;
                default:
                    escaped.Append(ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' ? '\uFFFD' : ch);
                    break;
            }
        }
        return escaped.ToString();
    }
}
