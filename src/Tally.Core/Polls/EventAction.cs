namespace Tally.Polls;

/// <summary>What an event's presenter does.</summary>
public enum EventAction
{
    /// <summary>Starts the event (it was a draft: participants could join, not answer).</summary>
    Start,

    /// <summary>Makes a question the live one (opening it, and starting a quiz question's clock); locks the one before.</summary>
    Show,

    /// <summary>Locks the live question's answers and reveals its results.</summary>
    Reveal,

    /// <summary>Locks the live question's answers (closes it).</summary>
    Lock,

    /// <summary>Ends the event (locking the live question).</summary>
    End,
}
