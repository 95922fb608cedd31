using Tally.Storage;

namespace Tally.Testing;

/// <summary>
/// One gate over the logs of every partition of the engines under test (an embedded engine's one log, or each
/// cluster partition's log on each node): closing it holds every append from then on, so a test can fill queues
/// deterministically. Logs wrapped while it is closed start closed.
/// </summary>
public sealed class AppendGate
{
    private readonly Lock _gate = new();
    private readonly List<ControlledEventLog> _logs = [];
    private bool _closed;
    private int _failNext;

    /// <summary>Appends that arrived and wait at the closed gate, over every log.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _logs.Sum(l => l.Waiting);
            }
        }
    }

    /// <summary>Puts <paramref name="log"/> behind this gate.</summary>
    public IEventLog Wrap(IEventLog log)
    {
        var controlled = new ControlledEventLog(log, TakeFailure);
        lock (_gate)
        {
            if (_closed)
            {
                controlled.Close();
            }

            _logs.Add(controlled);
        }

        return controlled;
    }

    /// <summary>Appends from now on wait until <see cref="Open"/>.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            foreach (var log in _logs)
            {
                log.Close();
            }
        }
    }

    /// <summary>The next <paramref name="count"/> appends, to whichever log of the gate, fail with an <see cref="IOException"/> and write nothing.</summary>
    public void FailNext(int count = 1) => Volatile.Write(ref _failNext, count);

    public void Open()
    {
        lock (_gate)
        {
            _closed = false;
            foreach (var log in _logs)
            {
                log.Open();
            }
        }
    }

    private bool TakeFailure()
    {
        if (Volatile.Read(ref _failNext) <= 0)
        {
            return false;
        }

        return Interlocked.Decrement(ref _failNext) >= 0;
    }
}
