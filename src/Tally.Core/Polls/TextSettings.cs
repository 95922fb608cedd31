namespace Tally.Polls;

/// <summary>What makes a <see cref="PollKind.Text"/> poll: how long an answer may be, its language (for stop words), and moderation.</summary>
/// <param name="MaxLength">The longest answer, in UTF-16 code units after trimming.</param>
/// <param name="Language">The stop words the terms leave out (<see cref="StopWords.Languages"/>).</param>
/// <param name="Moderated">True: answers are held until a manager approves them, and count only then.</param>
public sealed record TextSettings(int MaxLength, string Language, bool Moderated);
