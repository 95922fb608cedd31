using System.Threading.Channels;
using Tally.Live;

namespace Tally.Core.Tests.Live;

/// <summary>A watcher connection that records what it is sent; its writes can be held at a gate (a slow watcher).</summary>
internal sealed class RecordingConnection(LiveOptions options) : LiveConnection(options)
{
    private readonly Channel<LiveMessage> _written = Channel.CreateUnbounded<LiveMessage>();
    private TaskCompletionSource _gate = Open();

    public List<LiveMessage> All { get; } = [];

    /// <summary>Writes wait from now on until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public async Task<LiveMessage> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await _written.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>True when a message is already waiting (nothing is awaited).</summary>
    public bool HasMore => _written.Reader.TryPeek(out _);

    protected override async ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
    {
        await _gate.Task.WaitAsync(cancellationToken);
        lock (All)
        {
            All.Add(message);
        }

        _written.Writer.TryWrite(message);
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource();
        open.SetResult();
        return open;
    }
}
