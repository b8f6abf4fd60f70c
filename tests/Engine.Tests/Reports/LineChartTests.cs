using System.Globalization;
using System.Xml.Linq;
using GenMetrics.Reports;

namespace GenMetrics.Tests.Reports;

public class LineChartTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    static readonly double[] Psi = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];

    static LineChart Sweep()
    {
        var chart = new LineChart { Title = "Truncation sweep", XLabel = "psi", YLabel = "score", ReverseX = true };
        chart.AddSeries("precision", Psi.Select((p, i) => (p, 0.55 + 0.05 * i)));
        chart.AddSeries("recall", Psi.Select((p, i) => (p, 0.62 - 0.07 * i)));
        return chart;
    }

    static (double X, double Y)[] ParsePoints(string points) =>
        points.Split(' ').Select(pair => pair.Split(','))
            .Select(xy => (double.Parse(xy[0], CultureInfo.InvariantCulture), double.Parse(xy[1], CultureInfo.InvariantCulture))).ToArray();

    static double Attr(XElement element, string name) => double.Parse(element.Attribute(name)!.Value, CultureInfo.InvariantCulture);

    [TestCase(false)]
    [TestCase(true)]
    public void PolylinesMapDataToThePlotArea(bool reverseX)
    {
        var chart = new LineChart { ReverseX = reverseX, XMin = 0.3, XMax = 1.0, YMin = 0, YMax = 1 };
        var first = new[] { (1.0, 0.5), (0.65, 0.25), (0.3, 1.0) };
        var second = new[] { (0.3, 0.0), (0.5, 0.75), (0.8, 0.1), (1.0, 0.9) };
        chart.AddSeries("a", first);
        chart.AddSeries("b", second);
        var svg = XDocument.Parse(chart.ToSvg());

        var plot = svg.Root!.Elements(Svg + "rect").Single(r => r.Attribute("fill")!.Value == "none");
        double left = Attr(plot, "x"), top = Attr(plot, "y"), width = Attr(plot, "width"), height = Attr(plot, "height");
        Assert.That(width, Is.GreaterThan(300));
        Assert.That(height, Is.GreaterThan(250));

        var polylines = svg.Root.Elements(Svg + "polyline").ToArray();
        Assert.That(polylines, Has.Length.EqualTo(2));
        foreach (var (polyline, data) in polylines.Zip(new[] { first, second }))
        {
            var points = ParsePoints(polyline.Attribute("points")!.Value);
            Assert.That(points, Has.Length.EqualTo(data.Length));
            for (int i = 0; i < data.Length; i++)
            {
                double t = (data[i].Item1 - 0.3) / 0.7;
                double expectedX = left + (reverseX ? 1 - t : t) * width;
                double expectedY = top + height - data[i].Item2 * height;
                Assert.That(points[i].X, Is.EqualTo(expectedX).Within(0.006), $"x of point {i}");
                Assert.That(points[i].Y, Is.EqualTo(expectedY).Within(0.006), $"y of point {i}");
            }
        }
        // One marker per point, plus one per legend entry.
        Assert.That(svg.Root.Elements(Svg + "circle").Count(), Is.EqualTo(first.Length + second.Length + 2));
        // The psi = 1.0 end of the axis is on the left when reversed.
        var firstPoint = ParsePoints(polylines[0].Attribute("points")!.Value)[0];
        Assert.That(firstPoint.X, Is.EqualTo(reverseX ? left : left + width).Within(0.006));
    }

    [Test]
    public void TickLabelsAreTheNiceTicksOfThePaddedRange()
    {
        var svg = XDocument.Parse(Sweep().ToSvg());
        var labels = svg.Root!.Elements(Svg + "text").Select(t => t.Value).ToArray();
        // x: psi 0.3..1.0 widened by 5% -> [0.265, 1.035] -> ticks 0.3..1.0, labelled with one decimal.
        foreach (var psi in new[] { "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0" })
            Assert.That(labels, Does.Contain(psi));
        Assert.That(labels, Does.Contain("Truncation sweep").And.Contain("psi").And.Contain("score")
            .And.Contain("precision").And.Contain("recall"));
    }

    [Test]
    public void TextIsEscaped()
    {
        var chart = Sweep();
        chart.Title = "FID <&> \"psi\" 'x'";
        chart.AddSeries("a<b", [(0.5, 0.5)]);
        var text = chart.ToSvg();
        Assert.That(text, Does.Contain("FID &lt;&amp;&gt; &quot;psi&quot; &apos;x&apos;"));
        var svg = XDocument.Parse(text);
        var labels = svg.Root!.Elements(Svg + "text").Select(t => t.Value).ToArray();
        Assert.That(labels, Does.Contain("FID <&> \"psi\" 'x'").And.Contain("a<b"));
    }

    [Test]
    public void SameChartGivesTheSameBytesInAnyCulture()
    {
        var before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            var first = Sweep().ToSvg();
            // The test host may run in globalization-invariant mode, so a decimal-comma culture is built by hand.
            var decimalComma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            decimalComma.NumberFormat.NumberDecimalSeparator = ",";
            decimalComma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = decimalComma;
            Assert.That(0.5.ToString(CultureInfo.CurrentCulture), Is.EqualTo("0,5"));
            var second = Sweep().ToSvg();
            Assert.That(second, Is.EqualTo(first));
            Assert.That(first, Does.Not.Contain("0,3<"));
            var firstPng = Sweep().ToPng();
            Assert.That(Sweep().ToPng(), Is.EqualTo(firstPng));
        }
        finally { CultureInfo.CurrentCulture = before; }
    }

    [Test]
    public void NonFinitePointsAreLeftOut()
    {
        var chart = new LineChart();
        chart.AddSeries("fid", [(1.0, 10.0), (0.9, double.NaN), (0.8, 30.0)]);
        var svg = XDocument.Parse(chart.ToSvg());
        Assert.That(ParsePoints(svg.Root!.Elements(Svg + "polyline").Single().Attribute("points")!.Value), Has.Length.EqualTo(2));
    }

    [Test]
    public void PngHasTheSizeTheLinesAndTheText()
    {
        var chart = Sweep();
        var image = chart.Render(640, 400);
        Assert.That((image.Width, image.Height), Is.EqualTo((640, 400)));
        var decoded = PngWriterTests.DecodeWithSkia(chart.ToPng(640, 400));
        Assert.That(decoded.Pixels, Is.EqualTo(image.Pixels));

        // Marker centres carry their series' colour exactly (a filled disc of radius 3.5 covers its centre).
        var frame = chart.ComputeFrame(640, 400);
        var colours = new[] { (0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e) };
        for (int s = 0; s < 2; s++)
            foreach (var (x, y) in chart.Series[s].Points)
            {
                int px = (int)Math.Floor(frame.MapX(x)), py = (int)Math.Floor(frame.MapY(y));
                int p = 3 * (py * 640 + px);
                Assert.That(((int)image.Pixels[p], (int)image.Pixels[p + 1], (int)image.Pixels[p + 2]), Is.EqualTo(colours[s]),
                    $"series {s} marker at ({px}, {py})");
            }

        if (!LineChartFontCheck.HasFont)
            Assert.Ignore("no usable font: charts are drawn without text here (see docs/reports.md)");
        // Title band above the plot: only text is drawn there, so dark pixels mean the title was rendered.
        int dark = 0;
        for (int y = 8; y < (int)frame.Top - 4; y++)
            for (int x = 0; x < 640; x++)
                if (image.Pixels[3 * (y * 640 + x)] < 100) dark++;
        Assert.That(dark, Is.GreaterThan(50));
    }

    [Test]
    public void SaveWritesBothFormats()
    {
        var folder = Directory.CreateTempSubdirectory("genmetrics-chart-");
        try
        {
            var chart = Sweep();
            chart.SaveSvg(Path.Combine(folder.FullName, "sweep.svg"));
            chart.SavePng(Path.Combine(folder.FullName, "sweep.png"), 800, 500);
            Assert.That(File.ReadAllText(Path.Combine(folder.FullName, "sweep.svg")), Is.EqualTo(chart.ToSvg()));
            var png = PngWriterTests.DecodeWithSkia(File.ReadAllBytes(Path.Combine(folder.FullName, "sweep.png")));
            Assert.That((png.Width, png.Height), Is.EqualTo((800, 500)));
            if (Environment.GetEnvironmentVariable("GENMETRICS_KEEP_CHART") is { Length: > 0 } keep)
                File.Copy(Path.Combine(folder.FullName, "sweep.png"), keep, overwrite: true);
        }
        finally { folder.Delete(recursive: true); }
    }
}

static class LineChartFontCheck
{
    public static bool HasFont => typeof(LineChart).Assembly.GetType("GenMetrics.Reports.SkiaPainter")!
        .GetProperty("HasFont", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.GetValue(null) is true;
}

public class LineChartRangeTests
{
    [Test]
    public void ASinglePointOrNoDataStillGivesAValidChart()
    {
        var one = new LineChart();
        one.AddSeries("realism", [(3.0, 1.25)]);
        var frame = one.ComputeFrame(640, 400);
        Assert.That((frame.XLow, frame.XHigh), Is.EqualTo((2.7, 3.3)).Using<(double, double)>((a, b) =>
            Math.Abs(a.Item1 - b.Item1) < 1e-12 && Math.Abs(a.Item2 - b.Item2) < 1e-12));
        Assert.That(frame.MapX(3.0), Is.EqualTo((frame.Left + frame.Right) / 2).Within(1e-9));
        Assert.That(frame.MapY(1.25), Is.EqualTo((frame.Top + frame.Bottom) / 2).Within(1e-9));
        Assert.DoesNotThrow(() => System.Xml.Linq.XDocument.Parse(one.ToSvg()));

        var empty = new LineChart { Title = "nothing yet" };
        var emptyFrame = empty.ComputeFrame(640, 400);
        Assert.That((emptyFrame.XLow, emptyFrame.XHigh, emptyFrame.YLow, emptyFrame.YHigh), Is.EqualTo((0.0, 1.0, 0.0, 1.0)));
        Assert.DoesNotThrow(() => System.Xml.Linq.XDocument.Parse(empty.ToSvg()));
    }

    [Test]
    public void ExplicitLimitsOverrideTheDataRange()
    {
        var chart = new LineChart { YMin = 0, YMax = 1 };
        chart.AddSeries("precision", [(0.3, 0.9), (1.0, 0.6)]);
        var frame = chart.ComputeFrame(640, 400);
        Assert.That((frame.YLow, frame.YHigh), Is.EqualTo((0.0, 1.0)));
        Assert.That(frame.XLow, Is.EqualTo(0.3 - 0.035).Within(1e-12));
        Assert.That(frame.XHigh, Is.EqualTo(1.0 + 0.035).Within(1e-12));
    }
}
