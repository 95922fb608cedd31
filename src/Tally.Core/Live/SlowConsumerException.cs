namespace Tally.Live;

/// <summary>A watcher's connection could not take a message in time; the transport closes it with this reason.</summary>
public sealed class SlowConsumerException : Exception
{
    public SlowConsumerException()
    {
    }

    public SlowConsumerException(string message)
        : base(message)
    {
    }

    public SlowConsumerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
