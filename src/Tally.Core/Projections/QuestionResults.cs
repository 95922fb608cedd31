namespace Tally.Projections;

/// <summary>
/// A Q&amp;A poll's figures: the questions shown (asked, and approved when moderated), the questions held for moderation, and the
/// top <see cref="Polls.QuestionRules.TopQuestions"/> shown questions, the most upvoted first, the oldest first among equals.
/// </summary>
public sealed record QuestionResults(long Asked, int Held, IReadOnlyList<QuestionItem> Items);
