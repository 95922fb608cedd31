using Google.Protobuf;
using Tally.Live;
using Tally.Polls;
using Tally.V1;
using DomainStatus = Tally.Polls.PollStatus;
using ScaleSummary = Tally.Projections.ScaleSummary;

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
            Status = ToWire(message.Status, results.Poll),
            Snapshot = message.Kind == LiveMessageKind.Snapshot,
            Closed = message.Kind == LiveMessageKind.Closed,
        };
        if (message.Watchers is { } watchers)
        {
            update.Watchers = watchers;
        }

        if (!message.IsPresenceOnly && ScaleSummary.Of(results) is { } summary)
        {
            update.Summary = ToWire(summary);
        }

        if (!message.IsPresenceOnly && results.Ranking is { } ranking)
        {
            update.Ranking = ToWire(ranking);
        }

        if (!message.IsPresenceOnly && results.Event is { } view)
        {
            update.Event = ToWire(view, results.Poll);
        }

        if (!message.IsPresenceOnly && results.Questions is { } questions)
        {
            var board = new V1.QuestionBoard { Asked = questions.Asked, Held = questions.Held };
            foreach (var q in questions.Items)
            {
                board.Items.Add(new V1.QuestionItem { Id = Events.VoteIds.Format(results.Poll.Id, q.Seq), Text = q.Text, Votes = q.Votes, Answered = q.Answered, AtMs = q.At.ToUnixTimeMilliseconds() });
            }

            update.Questions = board;
        }

        if (!message.IsPresenceOnly && results.Text is { } text)
        {
            var wire = new V1.TextSummary { Answers = text.Answers, Held = text.Held, Capacity = text.Capacity };
            foreach (var t in text.Terms)
            {
                wire.Terms.Add(new V1.TermCount { Term = t.Term, Count = t.Count, Error = t.Error });
            }

            update.Text = wire;
        }

        if (!message.IsPresenceOnly && Contracts.ContractMapping.ToQuizResponse(results) is { } quiz)
        {
            update.Quiz = ToWire(quiz);
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
            var poll = results.Poll;
            update.Question = poll.Question;
            update.Kind = Contracts.ContractMapping.Name(poll.Kind);
            foreach (var option in options)
            {
                var wire = new V1.PollOption { Id = option.Id, Text = option.Text };
                if (poll.Kind.IsScale())
                {
                    wire.Value = poll.ValueOf(option.Id);
                }

                update.Options.Add(wire);
            }
        }

        return update;
    }

    private static V1.EventProgress ToWire(Projections.EventView view, Polls.PollDefinition poll)
    {
        var wire = new V1.EventProgress
        {
            Current = view.Current,
            CurrentPollId = view.Current > 0 ? poll.QuestionId(view.Current) : string.Empty,
            Revealed = view.Revealed,
            Round = view.Round,
            Participants = view.Participants,
        };
        if (view.ShownAt is { } shownAt)
        {
            wire.ShownAtMs = shownAt.ToUnixTimeMilliseconds();
        }

        foreach (var e in view.Leaders)
        {
            wire.Leaders.Add(new V1.Standing { Rank = e.Rank, Name = e.Name, Score = e.Score, Streak = e.Streak, Correct = e.Correct, Answered = e.Answered });
        }

        return wire;
    }

    private static V1.QuizClock ToWire(Contracts.QuizResponse quiz)
    {
        var wire = new V1.QuizClock { Points = quiz.Points, TimeLimitSeconds = quiz.TimeLimitSeconds };
        if (quiz.ShownAt is { } shownAt)
        {
            wire.ShownAtMs = shownAt.ToUnixTimeMilliseconds();
        }

        if (quiz.Deadline is { } deadline)
        {
            wire.DeadlineMs = deadline.ToUnixTimeMilliseconds();
        }

        wire.Correct.Add(quiz.Correct ?? []);
        return wire;
    }

    private static V1.RankingResults ToWire(Projections.RankingResults ranking)
    {
        var wire = new V1.RankingResults { Ballots = ranking.Ballots };
        if (ranking.Irv.Winner is { } winner)
        {
            wire.Winner = winner;
        }

        foreach (var round in ranking.Irv.Rounds)
        {
            var r = new RunoffRound { Exhausted = round.Exhausted, TransferredToExhausted = round.TransferredToExhausted };
            r.Votes.AddRange(round.Votes.Select(v => new V1.OptionCount { Id = v.Id, Votes = v.Votes }));
            r.Transfers.AddRange(round.Transfers.Select(v => new V1.OptionCount { Id = v.Id, Votes = v.Votes }));
            if (round.Eliminated is { } eliminated)
            {
                r.Eliminated = eliminated;
            }

            wire.Rounds.Add(r);
        }

        return wire;
    }

    private static V1.ScaleSummary ToWire(ScaleSummary summary)
    {
        var wire = new V1.ScaleSummary { Count = summary.Count, Sum = summary.Sum };
        if (summary.Mean is { } mean)
        {
            wire.Mean = mean;
        }

        if (summary.Nps is { } nps)
        {
            wire.Nps = new V1.NpsSummary { Promoters = nps.Promoters, Passives = nps.Passives, Detractors = nps.Detractors };
            if (nps.Score is { } score)
            {
                wire.Nps.Score = score;
            }
        }

        return wire;
    }

    public static V1.PollStatus ToWire(DomainStatus status, Tally.Polls.PollDefinition poll) => status switch
    {
        DomainStatus.Open => V1.PollStatus.Open,
        DomainStatus.Closed => V1.PollStatus.Closed,
        DomainStatus.Paused => V1.PollStatus.Paused,
        _ => poll.OpensAt is null ? V1.PollStatus.Draft : V1.PollStatus.Scheduled,
    };
}
