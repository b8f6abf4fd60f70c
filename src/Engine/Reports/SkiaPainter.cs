using System.Runtime.InteropServices;
using GenMetrics.Imaging;
using SkiaSharp;

namespace GenMetrics.Reports;

/// <summary>Paints a chart scene with SkiaSharp into an opaque RGB image.</summary>
internal static class SkiaPainter
{
    // The NoDependencies native Skia has no fontconfig: its default typeface can be an empty one that draws
    // nothing. We take the first candidate that actually has glyphs for "0", and draw no text (rather than
    // fail) when there is none; docs/reports.md says so.
    private static readonly Lazy<SKTypeface?> UsableTypeface = new(FindTypeface);
    private static readonly Lazy<SKTypeface?> UsableBoldTypeface = new(() => FindTypeface(bold: true) ?? UsableTypeface.Value);

    private static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
        "/System/Library/Fonts/Helvetica.ttc",
        @"C:\Windows\Fonts\arial.ttf",
    ];

    internal static bool HasFont => UsableTypeface.Value is not null;

    public static RgbImage Paint(IReadOnlyList<ChartShape> shapes, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var surface = SKSurface.Create(info) ?? throw new InvalidOperationException($"SkiaSharp could not create a {width}x{height} surface");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var stroke = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeJoin = SKStrokeJoin.Round };
        using var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        foreach (var shape in shapes)
        {
            switch (shape)
            {
                case LineShape l:
                    Set(stroke, l.Stroke, l.StrokeWidth);
                    canvas.DrawLine((float)l.X1, (float)l.Y1, (float)l.X2, (float)l.Y2, stroke);
                    break;
                case PolylineShape p:
                    Set(stroke, p.Stroke, p.StrokeWidth);
                    canvas.DrawPoints(SKPointMode.Polygon, p.Points.Select(q => new SKPoint((float)q.X, (float)q.Y)).ToArray(), stroke);
                    break;
                case CircleShape c:
                    fill.Color = SKColor.Parse(c.Fill);
                    canvas.DrawCircle((float)c.CenterX, (float)c.CenterY, (float)c.Radius, fill);
                    break;
                case RectShape r:
                    var rect = SKRect.Create((float)r.X, (float)r.Y, (float)r.Width, (float)r.Height);
                    if (r.Fill is not null)
                    {
                        fill.Color = SKColor.Parse(r.Fill);
                        canvas.DrawRect(rect, fill);
                    }
                    Set(stroke, r.Stroke, 1);
                    canvas.DrawRect(rect, stroke);
                    break;
                case TextShape t:
                    DrawText(canvas, fill, t);
                    break;
                default:
                    throw new InvalidOperationException($"no Skia form for {shape.GetType().Name}");
            }
        }

        var rgba = new byte[4 * width * height];
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            if (!surface.ReadPixels(info, handle.AddrOfPinnedObject(), 4 * width, 0, 0))
                throw new InvalidOperationException("SkiaSharp could not read back the chart pixels");
        }
        finally { handle.Free(); }
        var rgb = new byte[3 * width * height];
        for (int p = 0, q = 0; q < rgba.Length; p += 3, q += 4)
        {
            rgb[p] = rgba[q];
            rgb[p + 1] = rgba[q + 1];
            rgb[p + 2] = rgba[q + 2];
        }
        return new RgbImage(width, height, rgb);
    }

    private static void Set(SKPaint paint, string color, double width)
    {
        paint.Color = SKColor.Parse(color);
        paint.StrokeWidth = (float)width;
    }

    private static void DrawText(SKCanvas canvas, SKPaint paint, TextShape text)
    {
        var typeface = text.Bold ? UsableBoldTypeface.Value : UsableTypeface.Value;
        if (typeface is null) return;
        using var font = new SKFont(typeface, (float)text.FontSize) { Subpixel = true };
        paint.Color = SKColors.Black;
        var align = text.Anchor switch { TextAnchor.Start => SKTextAlign.Left, TextAnchor.Middle => SKTextAlign.Center, _ => SKTextAlign.Right };
        canvas.Save();
        if (text.Vertical) canvas.RotateDegrees(-90, (float)text.X, (float)text.Y);
        canvas.DrawText(text.Text, (float)text.X, (float)text.Y, align, font, paint);
        canvas.Restore();
    }

    private static bool HasGlyphs(SKTypeface typeface)
    {
        using var font = new SKFont(typeface);
        return font.GetGlyph('0') != 0;
    }

    private static SKTypeface? FindTypeface() => FindTypeface(bold: false);

    private static SKTypeface? FindTypeface(bool bold)
    {
        var style = bold ? SKFontStyle.Bold : SKFontStyle.Normal;
        var candidates = new List<Func<SKTypeface?>>
        {
            () => SKFontManager.Default.MatchFamily("DejaVu Sans", style),
            () => SKFontManager.Default.MatchFamily("sans-serif", style),
            () => SKTypeface.FromFamilyName(null, style),
        };
        foreach (var file in FontFiles)
        {
            var boldFile = file.Replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf").Replace("Regular.ttf", "Bold.ttf");
            candidates.Add(() => File.Exists(bold ? boldFile : file) ? SKTypeface.FromFile(bold ? boldFile : file) : null);
        }
        foreach (var candidate in candidates)
        {
            SKTypeface? typeface;
            try { typeface = candidate(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (typeface is not null && HasGlyphs(typeface)) return typeface;
            typeface?.Dispose();
        }
        return null;
    }
}
