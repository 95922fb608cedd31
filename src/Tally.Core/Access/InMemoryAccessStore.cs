namespace Tally.Access;

/// <summary>
/// An <see cref="IAccessStore"/> in memory: for tests and for engines without storage. Thread-safe. Times are kept in
/// UTC, as the stores that write them down read them back.
/// </summary>
public sealed class InMemoryAccessStore : IAccessStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Workspace> _workspaces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ApiKey> _keys = new(StringComparer.Ordinal);
    private readonly List<AuditEntry> _audit = [];
    private readonly Dictionary<string, byte[]> _secrets = new(StringComparer.Ordinal);
    private long _version;

    public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<long> ReadVersionAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_version);
        }
    }

    public Task<Workspace?> FindWorkspaceAsync(string id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_workspaces.GetValueOrDefault(id));
        }
    }

    public Task<Workspace?> FindWorkspaceByIssuerAsync(string issuer, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_workspaces.Values.FirstOrDefault(w => w.Settings.Jwt?.Issuer == issuer));
        }
    }

    public Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<Workspace>>([.. _workspaces.Values.OrderBy(w => w.Id, StringComparer.Ordinal)]);
        }
    }

    public Task<AccessWrite> CreateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        lock (_gate)
        {
            if (_workspaces.ContainsKey(workspace.Id))
            {
                return Task.FromResult(AccessWrite.IdTaken);
            }

            if (IssuerTaken(workspace))
            {
                return Task.FromResult(AccessWrite.IssuerTaken);
            }

            _workspaces.Add(workspace.Id, workspace with { CreatedAt = workspace.CreatedAt.ToUniversalTime() });
            _version++;
            return Task.FromResult(AccessWrite.Done);
        }
    }

    public Task<AccessWrite> UpdateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        lock (_gate)
        {
            if (!_workspaces.TryGetValue(workspace.Id, out var existing))
            {
                return Task.FromResult(AccessWrite.NotFound);
            }

            if (IssuerTaken(workspace))
            {
                return Task.FromResult(AccessWrite.IssuerTaken);
            }

            _workspaces[workspace.Id] = workspace with { CreatedAt = existing.CreatedAt };
            _version++;
            return Task.FromResult(AccessWrite.Done);
        }
    }

    public Task CreateKeyAsync(ApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            if (!_workspaces.ContainsKey(key.Workspace))
            {
                throw new InvalidOperationException($"There is no workspace {key.Workspace}.");
            }

            if (_keys.ContainsKey(key.Id))
            {
                throw new InvalidOperationException($"There is a key {key.Id} already.");
            }

            _keys.Add(key.Id, key with
            {
                CreatedAt = key.CreatedAt.ToUniversalTime(),
                ExpiresAt = key.ExpiresAt?.ToUniversalTime(),
                RevokedAt = key.RevokedAt?.ToUniversalTime(),
                LastUsedAt = key.LastUsedAt?.ToUniversalTime(),
            });
            _version++;
        }

        return Task.CompletedTask;
    }

    public Task<ApiKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_keys.GetValueOrDefault(keyId));
        }
    }

    public Task<IReadOnlyList<ApiKey>> ListKeysAsync(string workspace, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ApiKey>>([.. _keys.Values.Where(k => k.Workspace == workspace).OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id, StringComparer.Ordinal)]);
        }
    }

    public Task<AccessWrite> RevokeKeyAsync(string workspace, string keyId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_keys.TryGetValue(keyId, out var key) || key.Workspace != workspace)
            {
                return Task.FromResult(AccessWrite.NotFound);
            }

            if (key.RevokedAt is null)
            {
                _keys[keyId] = key with { RevokedAt = at.ToUniversalTime() };
                _version++;
            }

            return Task.FromResult(AccessWrite.Done);
        }
    }

    public Task RecordKeyUseAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lastUsed);
        lock (_gate)
        {
            foreach (var (id, at) in lastUsed)
            {
                if (_keys.TryGetValue(id, out var key) && (key.LastUsedAt is not { } was || was < at))
                {
                    _keys[id] = key with { LastUsedAt = at.ToUniversalTime() };
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<long> AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_gate)
        {
            var id = _audit.Count + 1L;
            _audit.Add(entry with { Id = id, At = entry.At.ToUniversalTime() });
            return Task.FromResult(id);
        }
    }

    public Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(string workspace, int limit, long? beforeId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<AuditEntry>>([.. _audit
                .Where(e => e.Workspace == workspace && (beforeId is not { } before || e.Id < before))
                .OrderByDescending(e => e.Id)
                .Take(limit)]);
        }
    }

    public Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(candidate);
        lock (_gate)
        {
            if (!_secrets.TryGetValue(name, out var secret))
            {
                secret = candidate.ToArray();
                _secrets.Add(name, secret);
            }

            return Task.FromResult(secret.ToArray());
        }
    }

    private bool IssuerTaken(Workspace workspace) =>
        workspace.Settings.Jwt?.Issuer is { } issuer && _workspaces.Values.Any(w => w.Id != workspace.Id && w.Settings.Jwt?.Issuer == issuer);
}
