using Tally.Limits;

namespace Tally.Server.Transports.WebSockets;

/// <summary>What a socket's next message gets from <see cref="MessageRate"/>.</summary>
internal enum MessageVerdict
{
    /// <summary>Within the rate: carried out.</summary>
    Allowed,

    /// <summary>Past the rate: answered with an <c>error</c>, not carried out.</summary>
    Refused,

    /// <summary>Another burst's worth sent while refused: the socket is closed (1008).</summary>
    Flooding,
}

/// <summary>
/// One socket's message rate (<c>Tally:WebSockets:MessagesPerSecond</c> and <c>MessageBurst</c>): GCRA over the socket's
/// messages, where a refused message counts too, so a client that keeps sending stays refused and, a burst later, is
/// closed. Used by the socket's receive loop only (one message at a time), so it needs no lock.
/// </summary>
internal sealed class MessageRate(TimeProvider time, double perSecond, int burst)
{
    private readonly long _origin = time.GetTimestamp();
    private readonly long _interval = perSecond > 0 ? new RateRule { Rate = perSecond, Burst = burst }.IntervalTicks : 0;
    private long _tat;

    public bool Enabled => _interval > 0;

    /// <summary>Counts one message.</summary>
    public MessageVerdict Next()
    {
        if (_interval == 0)
        {
            return MessageVerdict.Allowed;
        }

        var now = time.GetElapsedTime(_origin).Ticks;
        _tat = Math.Max(_tat, now) + _interval;
        var debt = _tat - now;
        return debt <= burst * _interval ? MessageVerdict.Allowed
            : debt <= 2L * burst * _interval ? MessageVerdict.Refused
            : MessageVerdict.Flooding;
    }

    /// <summary>Whole seconds until the next message would be carried out.</summary>
    public int RetryAfterSeconds()
    {
        var wait = _tat - time.GetElapsedTime(_origin).Ticks - (burst * _interval);
        return (int)Math.Max(1, Math.Ceiling(wait / (double)TimeSpan.TicksPerSecond));
    }
}
