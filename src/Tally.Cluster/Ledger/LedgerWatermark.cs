using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Npgsql;

namespace Tally.Cluster.Ledger;

/// <summary>
/// How far the PostgreSQL ledger has committed the event stream (its checkpoint, a stream sequence), as this node sees
/// it: the projector (on whichever node runs it) announces each commit on <see cref="ClusterOptions.LedgerCheckpointSubject"/>,
/// and the checkpoint row is read every 200 ms as well (an announcement is at most once). <see cref="WaitAsync"/>
/// completes once the ledger holds a given stream message.
/// </summary>
internal sealed class LedgerWatermark(INatsConnection nats, ClusterOptions options, NpgsqlDataSource data, ILogger logger) : RestartableLoop
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private readonly Lock _lock = new();
    private readonly SortedDictionary<ulong, List<TaskCompletionSource>> _waiting = [];
    private ulong _checkpoint;

    /// <summary>Completes once the ledger has committed stream message <paramref name="sequence"/>; cancelled by <paramref name="cancellationToken"/>.</summary>
    public Task WaitAsync(ulong sequence, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (_checkpoint >= sequence)
            {
                return Task.CompletedTask;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_waiting.TryGetValue(sequence, out var list))
            {
                _waiting[sequence] = list = [];
            }

            list.Add(waiter);
        }

        return waiter.Task.WaitAsync(cancellationToken);
    }

    public void Advance(ulong checkpoint)
    {
        List<TaskCompletionSource>? released = null;
        lock (_lock)
        {
            if (checkpoint <= _checkpoint)
            {
                return;
            }

            _checkpoint = checkpoint;
            while (_waiting.Count > 0)
            {
                var (sequence, list) = _waiting.First();
                if (sequence > checkpoint)
                {
                    break;
                }

                _waiting.Remove(sequence);
                (released ??= []).AddRange(list);
            }
        }

        foreach (var waiter in released ?? [])
        {
            waiter.TrySetResult();
        }
    }

    public static byte[] Encode(ulong checkpoint)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, checkpoint);
        return bytes;
    }

    protected override async Task RunAsync(CancellationToken stopping)
    {
        var announcements = Task.Run(() => ListenAsync(stopping), CancellationToken.None);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var command = data.CreateCommand("SELECT seq FROM ledger_checkpoints WHERE stream = $1");
                command.Parameters.AddWithValue(options.StreamName);
                if (await command.ExecuteScalarAsync(stopping).ConfigureAwait(false) is long seq)
                {
                    Advance((ulong)seq);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException && !stopping.IsCancellationRequested)
            {
                ClusterLog.LedgerBehind(logger, "the ledger's checkpoint cannot be read: " + ex.Message);
            }

            try
            {
                await Task.Delay(PollInterval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await announcements.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ListenAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var message in nats.SubscribeAsync<byte[]>(options.LedgerCheckpointSubject, cancellationToken: stopping).ConfigureAwait(false))
            {
                if (message.Data is { Length: 8 } bytes)
                {
                    Advance(BinaryPrimitives.ReadUInt64LittleEndian(bytes));
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
