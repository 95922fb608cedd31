namespace Tally.Polls;

/// <summary>What makes a <see cref="PollKind.Questions"/> poll (Q&amp;A): how long a question may be, moderation, and how many one voter may ask.</summary>
/// <param name="MaxLength">The longest question, in UTF-16 code units after trimming.</param>
/// <param name="Moderated">True: questions are held until a manager approves them; only then are they shown and upvoted.</param>
/// <param name="MaxQuestionsPerVoter">The most questions one voter may ask (held and rejected ones included).</param>
public sealed record QuestionSettings(int MaxLength, bool Moderated, int MaxQuestionsPerVoter);
