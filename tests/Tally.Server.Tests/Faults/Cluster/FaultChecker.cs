using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests.Faults.Cluster;

/// <summary>
/// Judges a run's history once the cluster is whole again. For each poll: every node serves the same results; the
/// export (read from the durable log) holds each acknowledged vote exactly once with its option and vote id, each unknown
/// at most once, no refused or never-sent vote, no ballot nobody sent, and seqs without a duplicate or a hole (two owners
/// committing for one partition would have to break one of these); the results equal the export's sum; <c>verify</c>
/// recomputes every served tally from the log without a difference; the PostgreSQL ledger holds the same ballots; every
/// watcher ends at the final seq and counts, having seen nothing go back. Returns the anomalies (empty: the run passed).
/// </summary>
internal static class FaultChecker
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    public static async Task<List<string>> CheckAsync(FaultCluster cluster, FaultHistory history, IReadOnlyList<string> polls)
    {
        var anomalies = new List<string>();
        using var admin = cluster.Nodes[0].NewClient(admin: true, TimeSpan.FromSeconds(30));
        await using var ledger = NpgsqlDataSource.Create(cluster.Postgres.Server.ConnectionString);
        var votes = history.Votes.ToArray();
        foreach (var vote in votes.Where(v => v.Outcome == VoteOutcome.Pending))
        {
            anomalies.Add($"vote {vote.Id} never finished");
        }

        foreach (var poll in polls)
        {
            var results = await SettledResultsAsync(cluster, poll, anomalies);
            if (results is null)
            {
                continue;
            }

            var seq = (long)results["seq"]!;
            var counts = ApiClient.Counts(results);
            var rows = await ExportAsync(admin, poll);
            CheckBallots(poll, votes.Where(v => v.Poll == poll).ToArray(), rows, anomalies);

            var exported = rows.GroupBy(r => r.Option).ToDictionary(g => g.Key, g => (long)g.Count());
            foreach (var option in counts.Keys.Union(exported.Keys))
            {
                if (counts.GetValueOrDefault(option) != exported.GetValueOrDefault(option))
                {
                    anomalies.Add($"{poll}: option {option} counts {counts.GetValueOrDefault(option)}, the log holds {exported.GetValueOrDefault(option)} ballots for it");
                }
            }

            if (seq != rows.Count + 1)
            {
                anomalies.Add($"{poll}: results at seq {seq}, but the log holds {rows.Count} ballots after the creation (one event each)");
            }

            await CheckLedgerAsync(ledger, poll, counts, anomalies);
            await CheckWatchersAsync(history.Watchers.Where(w => w.Poll == poll).ToArray(), seq, counts, anomalies);
        }

        // verify lists the polls through every partition's owner: a 503 while one changes hands is retried (bounded).
        var (status, report) = (0, (JsonNode?)null);
        try
        {
            await Eventually.WaitUntilAsync(async () =>
            {
                using var verify = await admin.PostAsync(new Uri("/v1/verify", UriKind.Relative), null);
                (status, report) = ((int)verify.StatusCode, JsonNode.Parse(await verify.Content.ReadAsStringAsync()));
                return verify.StatusCode != HttpStatusCode.ServiceUnavailable;
            }, Settle, Poll);
        }
        catch (OperationCanceledException)
        {
            // still 503 after a minute: reported below
        }

        if (status != 200 || (bool?)report?["ok"] != true)
        {
            anomalies.Add($"verify: {status} {report?.ToJsonString()}");
        }

        foreach (var watcher in history.Watchers)
        {
            anomalies.AddRange(watcher.Anomalies.Select(a => $"{watcher.Poll} watcher: {a}"));
        }

        return anomalies;
    }

    /// <summary>The poll's results once every node answers the same seq and counts (nodes that just restarted catch up).</summary>
    private static async Task<JsonObject?> SettledResultsAsync(FaultCluster cluster, string poll, List<string> anomalies)
    {
        var clients = cluster.Nodes.Select(n => n.NewClient(admin: false, TimeSpan.FromSeconds(10))).ToArray();
        JsonObject?[] answers = new JsonObject?[clients.Length];
        try
        {
            await Eventually.WaitUntilAsync(async () =>
            {
                for (var i = 0; i < clients.Length; i++)
                {
                    try
                    {
                        using var response = await clients[i].GetAsync(new Uri($"/v1/polls/{poll}/results", UriKind.Relative));
                        answers[i] = response.IsSuccessStatusCode ? await response.ReadJsonAsync() : null;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        answers[i] = null;
                    }
                }

                return answers.All(a => a is not null) && answers.Select(a => Same(a!)).Distinct().Count() == 1;
            }, Settle, Poll);
            return answers[0];
        }
        catch (OperationCanceledException)
        {
            anomalies.Add($"{poll}: the nodes did not agree within {Settle.TotalSeconds} s: {string.Join(" | ", answers.Select(a => a is null ? "no answer" : Same(a)))}");
            return null;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        static string Same(JsonObject results) => $"seq {results["seq"]}: {string.Join(',', ApiClient.Counts(results).OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"))}";
    }

    private const string Erased = "(erased)";

    private sealed record Ballot(long Seq, string VoteId, string Voter, int Option);

    /// <summary>Every cast row of the poll's export (voters raw), read from the durable log.</summary>
    private static async Task<List<Ballot>> ExportAsync(HttpClient admin, string poll)
    {
        using var response = await admin.GetAsync(new Uri($"/v1/polls/{poll}/export?voters=raw", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        var rows = new List<Ballot>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var row = JsonNode.Parse(line)!;
            if ((string?)row["type"] == "cast")
            {
                rows.Add(new((long)row["seq"]!, (string)row["voteId"]!, (string?)row["voter"] ?? Erased, (int)row["optionIds"]![0]!)); // an erased ballot's rows show no voter
            }
        }

        return rows;
    }

    private static void CheckBallots(string poll, VoteRecord[] votes, List<Ballot> rows, List<string> anomalies)
    {
        var byVoter = rows.GroupBy(r => r.Voter).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var vote in votes)
        {
            var found = byVoter.GetValueOrDefault(vote.Voter) ?? [];
            switch (vote.Outcome)
            {
                case VoteOutcome.Acknowledged when found.Count != 1:
                    anomalies.Add($"{poll}: acknowledged vote {vote.Id} ({vote.VoteId}) is in the log {found.Count} times");
                    break;
                case VoteOutcome.Acknowledged when found[0].Option != vote.Option || found[0].VoteId != vote.VoteId:
                    anomalies.Add($"{poll}: acknowledged vote {vote.Id} was {vote.VoteId} for option {vote.Option}; the log holds {found[0].VoteId} for option {found[0].Option}");
                    break;
                case VoteOutcome.Unknown when found.Count > 1:
                    anomalies.Add($"{poll}: unknown vote {vote.Id} is in the log {found.Count} times");
                    break;
                case VoteOutcome.Refused or VoteOutcome.NeverSent when found.Count > 0:
                    anomalies.Add($"{poll}: vote {vote.Id} ({vote.Outcome}: {vote.Refusal}) is in the log");
                    break;
            }
        }

        var sent = votes.Select(v => v.Voter).ToHashSet();
        foreach (var phantom in rows.Where(r => r.Voter != Erased && !sent.Contains(r.Voter)))
        {
            anomalies.Add($"{poll}: the log holds a ballot of {phantom.Voter} that no client sent");
        }

        var seqs = rows.Select(r => r.Seq).Order().ToArray();
        for (var i = 0; i < seqs.Length; i++)
        {
            if (seqs[i] != i + 2)
            {
                anomalies.Add($"{poll}: the log's ballots are not seqs 2..{seqs.Length + 1} without a gap or a repeat (at {i}: {seqs[i]})");
                break;
            }
        }
    }

    /// <summary>The ledger's ballots of the poll, per option, equal the results (the projector may trail: waited for).</summary>
    private static async Task CheckLedgerAsync(NpgsqlDataSource ledger, string poll, Dictionary<int, long> counts, List<string> anomalies)
    {
        var expected = string.Join(',', counts.Where(c => c.Value > 0).OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"));
        var held = "";
        try
        {
            await Eventually.WaitUntilAsync(async () =>
            {
                try
                {
                    await using var command = ledger.CreateCommand("SELECT string_agg(o || '=' || n, ',' ORDER BY o) FROM (SELECT option_ids[1] AS o, count(*) AS n FROM ballots WHERE poll_id = $1 GROUP BY 1) t");
                    command.Parameters.AddWithValue(poll);
                    held = await command.ExecuteScalarAsync() as string ?? "";
                }
                catch (NpgsqlException)
                {
                    held = "(no answer)";
                }

                return held == expected;
            }, Settle, Poll);
        }
        catch (OperationCanceledException)
        {
            anomalies.Add($"{poll}: the ledger holds {held}, the log {expected}");
        }
    }

    private static async Task CheckWatchersAsync(FaultHistory.Watcher[] watchers, long seq, Dictionary<int, long> counts, List<string> anomalies)
    {
        foreach (var watcher in watchers)
        {
            try
            {
                await Eventually.WaitUntilAsync(() => watcher.Read() is var (at, seen) && at == seq && counts.Where(c => c.Value > 0).All(c => seen.GetValueOrDefault(c.Key) == c.Value), Settle);
            }
            catch (OperationCanceledException)
            {
                var (at, seen) = watcher.Read();
                anomalies.Add($"{watcher.Poll} watcher ended at seq {at} ({string.Join(',', seen.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"))}), the results at {seq}");
            }
        }
    }
}
