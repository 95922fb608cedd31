using Tally.Live;
using Tally.Polls;
using Tally.Projections;
using Tally.Server.Access;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// A participant's own standing, pushed on their socket: after a <c>standing</c> op on an event the socket watches,
/// the participant gets a <c>standing</c> message at once, then again whenever the event's stream brings a leaderboard
/// moment (a question's results revealed, the event ended). Conflated: while one is being looked up and sent, a
/// later moment only asks for one more. The hub's messages stay shared bytes; this one is the socket's own.
/// </summary>
internal sealed class StandingFollower(WebSocketConnection connection, SocketAdmission admission, Func<StandingMessage, Task> send)
{
    private readonly Dictionary<string, Follow> _follows = new(StringComparer.Ordinal); // under itself

    /// <summary>Follows <paramref name="voterId"/>'s standing in <paramref name="eventId"/> (replacing a follow of it) and sends it now.</summary>
    /// <param name="now">The event's moment now (question, revealed, ended): the next push is for the next moment.</param>
    public Task FollowAsync(string eventId, string voterId, (int Question, bool Revealed, bool Ended) now, string? requestId)
    {
        Follow follow;
        lock (_follows)
        {
            _follows[eventId] = follow = new Follow(eventId, voterId, now);
        }

        return PushAsync(follow, requestId);
    }

    public void Unfollow(string eventId)
    {
        lock (_follows)
        {
            _follows.Remove(eventId);
        }
    }

    /// <summary>The connection is writing <paramref name="message"/> (on the publisher's thread: this only looks and schedules).</summary>
    public void OnWritten(LiveMessage message)
    {
        if (message.Results.Event is not { } progress)
        {
            return;
        }

        Follow? follow;
        lock (_follows)
        {
            if (_follows.Count == 0 || !_follows.TryGetValue(message.PollId, out follow))
            {
                return;
            }
        }

        var ended = message.Status == PollStatus.Closed;
        var moment = (progress.Current, progress.Revealed, ended);
        if (!(progress.Revealed || ended) || !follow.Moves(moment))
        {
            return;
        }

        _ = PushAsync(follow, null);
    }

    private async Task PushAsync(Follow follow, string? requestId)
    {
        if (!follow.TryStart())
        {
            return; // one is on its way; it runs once more when done
        }

        var done = false;
        try
        {
            do
            {
                var standing = await admission.Engine.FindStandingAsync(follow.EventId, follow.VoterId, CancellationToken.None).ConfigureAwait(false);
                if (!connection.Polls.Contains(follow.EventId))
                {
                    return; // unsubscribed meanwhile
                }

                if (standing.Value is { } entry)
                {
                    await send(new StandingMessage(follow.EventId, requestId, entry)).ConfigureAwait(false);
                }
                else if (requestId is not null && standing.Rejection is { } rejection)
                {
                    await send(new StandingMessage(follow.EventId, requestId, null, rejection)).ConfigureAwait(false); // not joined (yet): the op's answer says so
                }

                requestId = null;
            }
            while (follow.Again());
            done = true;
        }
        catch (Exception ex) when (ex is SlowConsumerException or System.Net.WebSockets.WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The socket is going away; its session ends it.
        }
        finally
        {
            if (!done)
            {
                follow.Stop();
            }
        }
    }

    private sealed class Follow(string eventId, string voterId, (int Question, bool Revealed, bool Ended) moment)
    {
        private readonly Lock _lock = new();
        private (int Question, bool Revealed, bool Ended) _moment = moment;
        private bool _running;
        private bool _again;

        public string EventId { get; } = eventId;

        public string VoterId { get; } = voterId;

        public bool Moves((int, bool, bool) moment)
        {
            lock (_lock)
            {
                if (_moment == moment)
                {
                    return false;
                }

                _moment = moment;
                return true;
            }
        }

        public bool TryStart()
        {
            lock (_lock)
            {
                if (_running)
                {
                    _again = true;
                    return false;
                }

                _running = true;
                return true;
            }
        }

        /// <summary>True (and cleared) when another push was asked for meanwhile; otherwise the push ends (and the next may start).</summary>
        public bool Again()
        {
            lock (_lock)
            {
                if (_again)
                {
                    _again = false;
                    return true;
                }

                _running = false;
                return false;
            }
        }

        public void Stop()
        {
            lock (_lock)
            {
                _running = false;
                _again = false;
            }
        }
    }
}

/// <summary>A participant's standing for their socket, or (answering a <c>standing</c> op) why there is none.</summary>
internal sealed record StandingMessage(string EventId, string? RequestId, LeaderboardEntry? Entry, Tally.Polls.Rejection? Rejection = null);
