using Tally.Polls;

namespace Tally.Engine;

/// <summary>Either a value or the reason there is none.</summary>
public readonly record struct Outcome<T>(T? Value, Rejection? Rejection)
    where T : class
{
    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(Rejection rejection) => new(null, rejection);
}
