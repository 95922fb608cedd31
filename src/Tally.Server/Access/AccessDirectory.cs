using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Tally.Access;

namespace Tally.Server.Access;

/// <summary>
/// This node's view of the access store: workspaces (by id and by JWT issuer) and API keys, each read once and
/// kept until the store's version moves. A loop reads the version every <see cref="AccessOptions.RefreshInterval"/>,
/// so a key revoked on any node stops working here within that time; writes made through this node drop the caches
/// at once. Lookups share one read per id (no stampede), negative answers are kept too (an unknown key id asked a
/// million times is read once), and each cache is cleared when it grows past a bound, so it cannot grow without one.
/// Key use is recorded in memory and written to the store about once a minute.
/// </summary>
internal sealed class AccessDirectory : IAsyncDisposable
{
    private const int MaxCached = 10_000;
    private static readonly TimeSpan UseFlushInterval = TimeSpan.FromMinutes(1);

    private readonly IAccessStore _store;
    private readonly AccessOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Task<Workspace?>> _workspaces = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<Workspace?>> _issuers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<ApiKey?>> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _keyUse = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task<IReadOnlyList<Workspace>>? _all;
    private Task _loop = Task.CompletedTask;
    private long _version = -1;
    private int _stopped;

    public AccessDirectory(IAccessStore store, IOptions<AccessOptions> options, TimeProvider time, ILogger<AccessDirectory> logger)
    {
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised (on the refresh loop, or on the writer's thread) when cached access may have changed.</summary>
    public event Action? Changed;

    public IAccessStore Store => _store;

    /// <summary>Reads the version and starts following it.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _version = await _store.ReadVersionAsync(cancellationToken).ConfigureAwait(false);
        var timer = new PeriodicTimer(_options.RefreshInterval, _time); // made here, so the clock counts from now, not from when the loop runs
        _loop = Task.Run(() => RunAsync(timer, _stopping.Token), CancellationToken.None);
    }

    public ValueTask<Workspace?> FindWorkspaceAsync(string id, CancellationToken cancellationToken) =>
        Cached(_workspaces, id, static (store, id, ct) => store.FindWorkspaceAsync(id, ct), cancellationToken);

    public ValueTask<Workspace?> FindWorkspaceByIssuerAsync(string issuer, CancellationToken cancellationToken) =>
        Cached(_issuers, issuer, static (store, issuer, ct) => store.FindWorkspaceByIssuerAsync(issuer, ct), cancellationToken);

    public ValueTask<ApiKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken) =>
        Cached(_keys, keyId, static (store, id, ct) => store.FindKeyAsync(id, ct), cancellationToken);

    /// <summary>Every workspace (for what spans them: the origins any of them allows), read once until access changes.</summary>
    public async ValueTask<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken cancellationToken)
    {
        var all = Volatile.Read(ref _all);
        if (all is null)
        {
            all = Interlocked.CompareExchange(ref _all, _store.ListWorkspacesAsync(CancellationToken.None), null) ?? Volatile.Read(ref _all)!;
        }

        try
        {
            return await all.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (all.IsFaulted)
        {
            _ = Interlocked.CompareExchange(ref _all, null, all);
            throw;
        }
    }

    /// <summary>Notes that a key was used now (written to the store later, at most once a minute).</summary>
    public void RecordUse(string keyId) => _keyUse[keyId] = _time.GetUtcNow();

    /// <summary>Drops every cache: call after a write through this node, so the change holds here at once.</summary>
    public void Invalidate()
    {
        _workspaces.Clear();
        _issuers.Clear();
        _keys.Clear();
        Volatile.Write(ref _all, null);
        Changed?.Invoke();
    }

    /// <summary>Stops following the version and writes the key use not written yet. Safe to call more than once.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await FlushKeyUseAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async ValueTask<T?> Cached<T>(ConcurrentDictionary<string, Task<T?>> cache, string key, Func<IAccessStore, string, CancellationToken, Task<T?>> read, CancellationToken cancellationToken)
        where T : class
    {
        if (!cache.TryGetValue(key, out var task))
        {
            if (cache.Count >= MaxCached)
            {
                cache.Clear();
            }

            // The read is not the caller's to cancel: others may share it.
            task = cache.GetOrAdd(key, k => read(_store, k, CancellationToken.None));
        }

        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (task.IsFaulted)
        {
            cache.TryRemove(new KeyValuePair<string, Task<T?>>(key, task)); // a failed read is not kept: the next one tries again
            throw;
        }
    }

    private async Task RunAsync(PeriodicTimer timer, CancellationToken stopping)
    {
        using var owned = timer;
        var lastFlush = _time.GetUtcNow();
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    var version = await _store.ReadVersionAsync(stopping).ConfigureAwait(false);
                    if (version != Interlocked.Exchange(ref _version, version))
                    {
                        Invalidate();
                    }

                    if (_time.GetUtcNow() - lastFlush >= UseFlushInterval)
                    {
                        lastFlush = _time.GetUtcNow();
                        await FlushKeyUseAsync(stopping).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The store is away: what is cached stays (nothing can be revoked there meanwhile either).
                    AccessLog.StoreUnreachable(_logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task FlushKeyUseAsync(CancellationToken cancellationToken)
    {
        if (_keyUse.IsEmpty)
        {
            return;
        }

        var uses = new List<KeyValuePair<string, DateTimeOffset>>(_keyUse.Count);
        foreach (var id in _keyUse.Keys)
        {
            if (_keyUse.TryRemove(id, out var at))
            {
                uses.Add(new(id, at));
            }
        }

        try
        {
            await _store.RecordKeyUseAsync(uses, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            AccessLog.StoreUnreachable(_logger, ex.Message); // last-used times are a hint: lose them rather than retry forever
        }
    }
}
