using System.Globalization;

namespace Tally.Polls;

/// <summary>
/// How an event's questions are named: the event's id, <c>q</c>, and the question's number (1-based). The engine routes
/// a poll by the first <see cref="RoutingLength"/> characters of its id, so an event and its questions share one partition
/// and so one writer: a quiz answer and the score it earns on the event's leaderboard commit together.
/// </summary>
public static class EventIds
{
    /// <summary>The length of the ids the server makes, and the part of any id that routes it.</summary>
    public const int RoutingLength = 10;

    public static string QuestionId(string eventId, int question)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(question);
        return eventId + "q" + question.ToString(CultureInfo.InvariantCulture);
    }
}
