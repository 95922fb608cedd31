using System.Net.Http.Headers;
using System.Text.Json;
using Tally.Server.Contracts;

namespace Tally.Server.Hosting;

/// <summary>
/// <c>Tally.Server verify [--url URL] [--key KEY]</c>: asks a running server to recompute every poll from its log
/// (<c>POST /v1/verify</c>), prints a summary and each difference, and exits 0 when clean, 1 on any difference, 2 when it
/// could not ask (unreachable, refused). The key defaults to <c>TALLY_ADMIN_KEY</c>, the URL to http://localhost:8080.
/// </summary>
internal static class VerifyCommand
{
    public static bool Matches(string[] args) => args is ["verify", ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors)
    {
        var url = "http://localhost:8080";
        var key = Environment.GetEnvironmentVariable("TALLY_ADMIN_KEY");
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--url" when i + 1 < args.Length:
                    url = args[++i];
                    break;
                case "--key" when i + 1 < args.Length:
                    key = args[++i];
                    break;
                default:
                    await errors.WriteLineAsync("usage: Tally.Server verify [--url URL] [--key KEY]   (the key defaults to TALLY_ADMIN_KEY)");
                    return 2;
            }
        }

        if (string.IsNullOrEmpty(key) || !Uri.TryCreate(url, UriKind.Absolute, out var baseUri))
        {
            await errors.WriteLineAsync("verify needs the root key (--key or TALLY_ADMIN_KEY) and an absolute --url.");
            return 2;
        }

        using var client = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        VerifyResponse report;
        try
        {
            using var response = await client.PostAsync(new Uri("/v1/verify", UriKind.Relative), null);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                await errors.WriteLineAsync($"verify: {baseUri} answered {(int)response.StatusCode}: {Clip(body)}");
                return 2;
            }

            report = JsonSerializer.Deserialize(body, TallyJsonContext.Default.VerifyResponse) ?? throw new JsonException("an empty answer");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            await errors.WriteLineAsync($"verify: could not ask {baseUri}: {ex.Message}");
            return 2;
        }

        await output.WriteLineAsync($"verify: {report.Polls} polls, {report.Events} events read from the log, {report.DifferenceCount} differences{(report.Ok ? ": every served tally equals its log" : "")}");
        foreach (var d in report.Differences)
        {
            await output.WriteLineAsync($"  poll {d.PollId}: {d.What}: served {d.Served}, the log says {d.Recomputed}");
        }

        if (report.DifferenceCount > report.Differences.Count)
        {
            await output.WriteLineAsync($"  … and {report.DifferenceCount - report.Differences.Count} more");
        }

        return report.Ok ? 0 : 1;
    }

    private static string Clip(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
