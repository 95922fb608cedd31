namespace Tally.Testing;

/// <summary>Waiting for a condition in tests: polled, and bounded by a deadline, never a fixed sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="OperationCanceledException"/> past the deadline.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (!condition())
        {
            await Task.Delay(5, deadline.Token).ConfigureAwait(false);
        }
    }

    /// <summary>As <see cref="WaitUntilAsync(Func{bool}, TimeSpan?)"/>, for a condition that must await (an HTTP read).</summary>
    /// <param name="interval">The pause between two tries (5 ms by default; longer for a condition that costs requests to several servers).</param>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (!await condition().WaitAsync(deadline.Token).ConfigureAwait(false))
        {
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(5), deadline.Token).ConfigureAwait(false);
        }
    }
}
