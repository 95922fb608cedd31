using Microsoft.AspNetCore.SignalR;

namespace SignalRBaseline;

/// <summary>A poll's counts in memory (under a lock) and how a change reaches its group: at once (naive) or through a throttle.</summary>
internal sealed class Poll(string id, int options, Throttle? throttle, IHubContext<ResultsHub> hub)
{
    private readonly Lock _gate = new();
    private readonly long[] _counts = new long[options + 1];
    private long _seq = 1;
    private long _total;

    /// <summary>Counts one ballot and broadcasts (naive: awaited before the answer; throttled: scheduled). Returns the new seq, or -1 for an unknown option.</summary>
    public async Task<long> VoteAsync(int[]? optionIds)
    {
        if (optionIds is null || optionIds.Length == 0 || optionIds.Any(o => o < 1 || o >= _counts.Length))
        {
            return -1;
        }

        long seq;
        ResultsMessage? results = null;
        lock (_gate)
        {
            foreach (var option in optionIds)
            {
                _counts[option]++;
            }

            _total++;
            seq = ++_seq;
            if (throttle is null)
            {
                results = ResultsLocked();
            }
        }

        if (results is not null)
        {
            await hub.Clients.Group(id).SendAsync("results", results);
        }
        else
        {
            throttle!.Changed(BroadcastAsync);
        }

        return seq;
    }

    public ResultsMessage Results()
    {
        lock (_gate)
        {
            return ResultsLocked();
        }
    }

    private Task BroadcastAsync() => hub.Clients.Group(id).SendAsync("results", Results());

    private ResultsMessage ResultsLocked() =>
        new("results", id, _seq, _total, [.. _counts.Skip(1).Select((votes, i) => new OptionVotes(i + 1, votes))]);
}
