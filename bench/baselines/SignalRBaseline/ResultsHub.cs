using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace SignalRBaseline;

/// <summary>Watchers call <c>Subscribe(pollId)</c>: they join the poll's group and get its current results at once.</summary>
internal sealed class ResultsHub(ConcurrentDictionary<string, Poll> polls) : Hub
{
    public async Task Subscribe(string pollId)
    {
        if (!polls.TryGetValue(pollId, out var poll))
        {
            throw new HubException($"No poll {pollId}.");
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, pollId);
        await Clients.Caller.SendAsync("results", poll.Results());
    }
}
