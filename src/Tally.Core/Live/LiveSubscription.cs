namespace Tally.Live;

/// <summary>What a connection's writer does with a message for a subscription.</summary>
internal enum LiveAdmission
{
    Skip,
    Write,
    Gap,
}

/// <summary>
/// One subscription to a poll (each subscribe makes a new one): its stream, and the seq the watcher has from
/// it. Only the writer (one at a time) reads or changes that. A fan-out that began before the subscribe may
/// still offer a delta before, between or after the subscription's own first messages, so a message is
/// written only when it continues what the watcher has: nothing before the start marker, no delta before the
/// snapshot that starts it, a delta only when its previous seq is at or before the watcher's seq and its seq
/// after it (an older one is a repeat), <c>closed</c> once and only after the delta it ends.
/// </summary>
internal sealed class LiveSubscription(PollStream stream)
{
    private const long AwaitsSnapshot = long.MinValue;
    private bool _started;
    private long _seq = AwaitsSnapshot;
    private bool _closedWritten;

    public PollStream Stream { get; } = stream;

    public void Start(long? continuesFrom)
    {
        if (!_started)
        {
            _seq = continuesFrom ?? AwaitsSnapshot;
            _started = true;
        }
        else if (continuesFrom is { } from)
        {
            // A resync's snapshot started it already (the collapse dropped this marker's successors): never go back.
            _seq = Math.Max(_seq, from);
        }
    }

    public LiveAdmission Admit(LiveMessage message)
    {
        if (!_started)
        {
            return LiveAdmission.Skip;
        }

        switch (message.Kind)
        {
            case LiveMessageKind.Snapshot:
                return LiveAdmission.Write;
            case LiveMessageKind.Closed:
                return !_closedWritten && _seq != AwaitsSnapshot && message.Seq <= _seq ? LiveAdmission.Write : LiveAdmission.Skip;
            default:
                if (_seq == AwaitsSnapshot || message.Seq < _seq || (message.Seq == _seq && !message.IsPresenceOnly))
                {
                    return LiveAdmission.Skip; // before the snapshot, or what the watcher already has
                }

                return message.PreviousSeq <= _seq ? LiveAdmission.Write : LiveAdmission.Gap;
        }
    }

    public void Wrote(LiveMessage message)
    {
        switch (message.Kind)
        {
            case LiveMessageKind.Snapshot:
                _started = true; // a resync's snapshot starts a subscription whose marker the collapse dropped
                _seq = message.Seq;
                _closedWritten = false; // a new run of the poll's stream (a resubscription or a resync)
                break;
            case LiveMessageKind.Delta:
                _seq = message.Seq;
                if (message.Status != Polls.PollStatus.Closed)
                {
                    _closedWritten = false; // the poll was reopened: a later close is written again
                }

                break;
            case LiveMessageKind.Closed:
                _closedWritten = true;
                break;
        }
    }
}
