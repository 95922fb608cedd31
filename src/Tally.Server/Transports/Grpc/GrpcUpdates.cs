using Google.Protobuf;
using Tally.Live;
using Tally.V1;
using DomainStatus = Tally.Polls.PollStatus;

namespace Tally.Server.Transports.Grpc;

/// <summary>
/// Live messages as <c>tally.v1.ResultsUpdate</c>: a snapshot has every option's count, text and the
/// question; a delta the changed counts only; the closed update every option's final count.
/// </summary>
internal static class GrpcUpdates
{
    /// <summary>The serialized update, for <see cref="LiveMessage.GetEncoded"/> (slot <see cref="LiveFormats.Grpc"/>).</summary>
    public static readonly Func<LiveMessage, byte[]> Encode = static message => ToUpdate(message).ToByteArray();

    public static ResultsUpdate ToUpdate(LiveMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var results = message.Results;
        var update = new ResultsUpdate
        {
            PollId = message.PollId,
            Seq = message.Seq,
            TotalVotes = message.TotalVotes,
            Status = ToWire(message.Status),
            Snapshot = message.Kind == LiveMessageKind.Snapshot,
            Closed = message.Kind == LiveMessageKind.Closed,
        };
        if (message.Watchers is { } watchers)
        {
            update.Watchers = watchers;
        }

        if (message.Kind == LiveMessageKind.Delta)
        {
            foreach (var change in message.Changes)
            {
                update.Counts.Add(new V1.OptionCount { Id = change.Id, Votes = change.Votes });
            }

            return update;
        }

        var options = results.Poll.Options;
        for (var i = 0; i < options.Count; i++)
        {
            update.Counts.Add(new V1.OptionCount { Id = options[i].Id, Votes = results.Counts[i] });
        }

        if (message.Kind == LiveMessageKind.Snapshot)
        {
            update.Question = results.Poll.Question;
            foreach (var option in options)
            {
                update.Options.Add(new V1.PollOption { Id = option.Id, Text = option.Text });
            }
        }

        return update;
    }

    public static V1.PollStatus ToWire(DomainStatus status) => status == DomainStatus.Open ? V1.PollStatus.Open : V1.PollStatus.Closed;
}
