using ScottPlot;

namespace Tally.LoadGen;

/// <summary>The comparison report's charts (ScottPlot, PNG): latency percentile curves and bars.</summary>
internal static class CompareCharts
{
    private const int Width = 900;
    private const int Height = 520;

    /// <summary>
    /// One line per series: latency (ms, log scale) against percentile, on an axis where each "nine" (90, 99, 99.9 …)
    /// takes the same width, as HdrHistogram's plots do. Writes <paramref name="path"/>.
    /// </summary>
    public static void PercentileCurves(string path, string title, IReadOnlyList<(string Name, IReadOnlyList<CurvePoint> Curve)> series)
    {
        var plot = new Plot();
        foreach (var (name, curve) in series.Where(s => s.Curve.Count > 0))
        {
            var xs = curve.Select(p => Nines(p.Percentile)).ToArray();
            var ys = curve.Select(p => Math.Log10(Math.Max(p.Ms, 0.01))).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 5;
        }

        plot.Title(title);
        plot.XLabel("percentile");
        plot.YLabel("vote sent → watcher received (ms, log scale)");
        double[] ticks = [0, Nines(50), Nines(90), Nines(99), Nines(99.9), Nines(99.99), Nines(100)];
        string[] labels = ["0%", "50%", "90%", "99%", "99.9%", "99.99%", "max"];
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, labels);
        var decades = Enumerable.Range(-1, 6).Select(e => (double)e).ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(decades, [.. decades.Select(e => Math.Pow(10, e).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture))]);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>One bar per (label, value), with the value written above it. Writes <paramref name="path"/>.</summary>
    public static void Bars(string path, string title, string yLabel, IReadOnlyList<(string Label, double Value)> bars)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < bars.Count; i++)
        {
            var value = double.IsFinite(bars[i].Value) ? bars[i].Value : 0;
            var bar = plot.Add.Bar(position: i, value: value);
            bar.Color = palette.GetColor(i);
            var text = plot.Add.Text(value.ToString(value >= 100 ? "N0" : "0.0#", System.Globalization.CultureInfo.InvariantCulture), i, value);
            text.LabelAlignment = Alignment.LowerCenter;
            text.LabelFontSize = 13;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, bars.Count).Select(i => (double)i)], [.. bars.Select(b => b.Label)]);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Percentile → "nines": 90 → 1, 99 → 2, 99.9 → 3; 100 (the max) is drawn at 5.</summary>
    private static double Nines(double percentile) => percentile >= 100 ? 5 : Math.Min(5, -Math.Log10(1 - (percentile / 100)));
}
