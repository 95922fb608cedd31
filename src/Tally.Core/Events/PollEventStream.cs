using System.Runtime.CompilerServices;

namespace Tally.Events;

/// <summary>One poll's events out of a log read in order (every engine's <c>ReadPollEventsAsync</c>).</summary>
public static class PollEventStream
{
    /// <summary>The events of <paramref name="pollId"/> in <paramref name="log"/>, through <paramref name="throughSeq"/>; stops reading there.</summary>
    public static async IAsyncEnumerable<PollEvent> OfPollThroughAsync(
        this IAsyncEnumerable<StoredEvent> log, string pollId, long throughSeq, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(pollId);
        await foreach (var stored in log.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var e = stored.Event;
            if (e.PollId != pollId)
            {
                continue;
            }

            if (e.Seq > throughSeq)
            {
                yield break;
            }

            yield return e;
            if (e.Seq == throughSeq)
            {
                yield break;
            }
        }
    }
}
