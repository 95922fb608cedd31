using System.Globalization;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>Reads samples out of a Prometheus text exposition (<c>GET /metrics</c>), as a scraper would.</summary>
public static class PrometheusText
{
    /// <summary>The sum of the samples of <paramref name="name"/> that carry every label given; 0 when there is none.</summary>
    public static double Value(string exposition, string name, params (string Key, string Value)[] labels)
    {
        double sum = 0;
        foreach (var line in exposition.Split('\n'))
        {
            if (line.Length <= name.Length || line[0] == '#' || !line.StartsWith(name, StringComparison.Ordinal) || line[name.Length] is not ('{' or ' '))
            {
                continue;
            }

            var set = line[name.Length] == '{' ? line[(name.Length + 1)..line.LastIndexOf('}')] : string.Empty;
            if (labels.All(l => set.Contains($"{l.Key}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    /// <summary>Scrapes <c>GET /metrics</c> and reads one value.</summary>
    public static async Task<double> ScrapeAsync(HttpClient client, string name, params (string Key, string Value)[] labels) =>
        Value(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), name, labels);
}
