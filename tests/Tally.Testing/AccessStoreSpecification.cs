using Tally.Access;
using Xunit;
using static Tally.Testing.TestAccess;

namespace Tally.Testing;

/// <summary>
/// What every <see cref="IAccessStore"/> must do (with the audit and secret tests it inherits). Each adapter's test
/// class inherits this. Times are kept to the millisecond at least and read back in UTC.
/// </summary>
public abstract class AccessStoreSpecification : AccessStoreRecordsSpecification
{
    [Fact]
    public async Task A_new_store_is_empty()
    {
        var store = await OpenAsync(CreateStore());
        Assert.Empty(await Wait(store.ListWorkspacesAsync(default)));
        Assert.Null(await Wait(store.FindWorkspaceAsync("acme", default)));
        Assert.Null(await Wait(store.FindWorkspaceByIssuerAsync("https://id.example.com", default)));
        Assert.Null(await Wait(store.FindKeyAsync("k1", default)));
        Assert.Empty(await Wait(store.ListKeysAsync("acme", default)));
        Assert.Empty(await Wait(store.ReadAuditAsync("acme", 10, null, default)));
    }

    [Fact]
    public async Task A_workspace_reads_back_exactly_as_created()
    {
        var store = await OpenAsync(CreateStore());
        var full = new Workspace("acme", "Acme — Ünïcode \"quoted\" <b>", Epoch, new WorkspaceSettings(
            new JwtSettings("https://id.acme.example/", null, "s3cr3t+/=\\\"é", null),
            ["https://app.acme.example", "http://localhost:5173", "https://app.acme.example"],
            ["https://blog.acme.example"]));
        var bare = new Workspace("bare", "Bare", Epoch.AddDays(-3), WorkspaceSettings.Empty);
        var jwks = new Workspace("jwks", "Jwks", Epoch, new WorkspaceSettings(new JwtSettings("iss-2", "aud", null, "https://id.example/.well-known/jwks.json"), [], ["https://a", "https://b"]));

        foreach (var w in new[] { full, bare, jwks })
        {
            Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(w, default)));
        }

        foreach (var w in new[] { full, bare, jwks })
        {
            Assert.Equal(Fingerprint(w), Fingerprint(await Wait(store.FindWorkspaceAsync(w.Id, default))));
        }

        Assert.Equal(Fingerprint(full), Fingerprint(await Wait(store.FindWorkspaceByIssuerAsync("https://id.acme.example/", default))));
        Assert.Equal(Fingerprint(jwks), Fingerprint(await Wait(store.FindWorkspaceByIssuerAsync("iss-2", default))));
        Assert.Null(await Wait(store.FindWorkspaceByIssuerAsync("https://id.acme.example", default)));
        Assert.Null(await Wait(store.FindWorkspaceByIssuerAsync("ISS-2", default))); // issuers compare exactly, as JWT's iss does
    }

    [Fact]
    public async Task Workspaces_are_listed_in_ordinal_id_order()
    {
        var store = await OpenAsync(CreateStore());
        string[] ids = ["b", "ab", "a-c", "b1", "a", "a9", "default"];
        foreach (var id in ids)
        {
            Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(Workspace(id, issuer: "iss-" + id), default)));
        }

        var listed = await Wait(store.ListWorkspacesAsync(default));

        Assert.Equal(ids.Order(StringComparer.Ordinal), listed.Select(w => w.Id)); // "a", "a-c", "a9", "ab", …: no locale rules
        Assert.Equal(ids.Order(StringComparer.Ordinal).Select(id => Fingerprint(Workspace(id, "iss-" + id))), listed.Select(Fingerprint));
    }

    [Fact]
    public async Task A_taken_id_is_IdTaken_and_the_first_workspace_stays()
    {
        var store = await OpenAsync(CreateStore());
        var first = Workspace("acme", issuer: "iss-1");
        Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(first, default)));
        var version = await Wait(store.ReadVersionAsync(default));

        Assert.Equal(AccessWrite.IdTaken, await Wait(store.CreateWorkspaceAsync(first with { Name = "Other", Settings = WorkspaceSettings.Empty }, default)));
        Assert.Equal(AccessWrite.IdTaken, await Wait(store.CreateWorkspaceAsync(first with { Name = "Both clash" }, default))); // id and issuer: the id wins

        Assert.Equal(Fingerprint(first), Fingerprint(await Wait(store.FindWorkspaceAsync("acme", default))));
        Assert.Equal(version, await Wait(store.ReadVersionAsync(default)));
    }

    [Fact]
    public async Task An_issuer_is_unique_across_workspaces_when_creating()
    {
        var store = await OpenAsync(CreateStore());
        Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(Workspace("acme", issuer: "https://id.example"), default)));
        var version = await Wait(store.ReadVersionAsync(default));

        Assert.Equal(AccessWrite.IssuerTaken, await Wait(store.CreateWorkspaceAsync(Workspace("other", issuer: "https://id.example"), default)));

        Assert.Null(await Wait(store.FindWorkspaceAsync("other", default)));
        Assert.Equal(version, await Wait(store.ReadVersionAsync(default)));
        Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(Workspace("upper", issuer: "https://ID.example"), default)));
        Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(Workspace("none-1"), default))); // no issuer never clashes
        Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(Workspace("none-2"), default)));
    }

    [Fact]
    public async Task An_update_replaces_name_and_settings_and_keeps_the_creation_time()
    {
        var store = await OpenAsync(CreateStore());
        var created = Workspace("acme", issuer: "iss-1");
        await Wait(store.CreateWorkspaceAsync(created, default));
        var updated = new Workspace("acme", "Acme Inc.", Epoch.AddYears(1), new WorkspaceSettings(
            new JwtSettings("iss-2", null, null, "https://id.example/jwks"), ["https://app.example"], []));

        Assert.Equal(AccessWrite.Done, await Wait(store.UpdateWorkspaceAsync(updated, default)));

        var expected = Fingerprint(updated with { CreatedAt = created.CreatedAt });
        Assert.Equal(expected, Fingerprint(await Wait(store.FindWorkspaceAsync("acme", default))));
        Assert.Equal(expected, Fingerprint(await Wait(store.FindWorkspaceByIssuerAsync("iss-2", default))));
        Assert.Null(await Wait(store.FindWorkspaceByIssuerAsync("iss-1", default)));
        Assert.Equal([expected], (await Wait(store.ListWorkspacesAsync(default))).Select(Fingerprint));

        Assert.Equal(AccessWrite.Done, await Wait(store.UpdateWorkspaceAsync(updated with { Settings = WorkspaceSettings.Empty }, default)));
        Assert.Equal(Fingerprint(WorkspaceSettings.Empty), Fingerprint((await Wait(store.FindWorkspaceAsync("acme", default)))!.Settings));
    }

    [Fact]
    public async Task Updating_a_missing_workspace_is_NotFound_and_creates_nothing()
    {
        var store = await OpenAsync(CreateStore());
        var version = await Wait(store.ReadVersionAsync(default));

        Assert.Equal(AccessWrite.NotFound, await Wait(store.UpdateWorkspaceAsync(Workspace("ghost", issuer: "iss"), default)));

        Assert.Empty(await Wait(store.ListWorkspacesAsync(default)));
        Assert.Null(await Wait(store.FindWorkspaceByIssuerAsync("iss", default)));
        Assert.Equal(version, await Wait(store.ReadVersionAsync(default)));
    }

    [Fact]
    public async Task An_issuer_is_unique_across_workspaces_when_updating_and_free_once_dropped()
    {
        var store = await OpenAsync(CreateStore());
        await Wait(store.CreateWorkspaceAsync(Workspace("a", issuer: "iss-a"), default));
        await Wait(store.CreateWorkspaceAsync(Workspace("b", issuer: "iss-b"), default));
        var version = await Wait(store.ReadVersionAsync(default));

        Assert.Equal(AccessWrite.IssuerTaken, await Wait(store.UpdateWorkspaceAsync(Workspace("b", issuer: "iss-a") with { Name = "Changed" }, default)));
        Assert.Equal(Fingerprint(Workspace("b", issuer: "iss-b")), Fingerprint(await Wait(store.FindWorkspaceAsync("b", default))));
        Assert.Equal(version, await Wait(store.ReadVersionAsync(default)));

        Assert.Equal(AccessWrite.Done, await Wait(store.UpdateWorkspaceAsync(Workspace("a", issuer: "iss-a") with { Name = "Same issuer" }, default))); // its own
        Assert.Equal(AccessWrite.Done, await Wait(store.UpdateWorkspaceAsync(Workspace("a"), default))); // drops iss-a
        Assert.Equal(AccessWrite.Done, await Wait(store.UpdateWorkspaceAsync(Workspace("b", issuer: "iss-a"), default)));
        Assert.Equal("b", (await Wait(store.FindWorkspaceByIssuerAsync("iss-a", default)))?.Id);
        Assert.Null(await Wait(store.FindWorkspaceByIssuerAsync("iss-b", default)));
        Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(Workspace("c", issuer: "iss-b"), default)));
    }

    [Fact]
    public async Task Concurrent_creates_of_one_id_or_one_issuer_let_exactly_one_win()
    {
        var store = await OpenAsync(CreateStore());
        var sameId = Enumerable.Range(0, 8).Select(i => Task.Run(() => store.CreateWorkspaceAsync(Workspace("race", issuer: "iss-" + i), default)));
        var sameIssuer = Enumerable.Range(0, 8).Select(i => Task.Run(() => store.CreateWorkspaceAsync(Workspace("w" + i, issuer: "shared"), default)));

        var ids = await Task.WhenAll(sameId).WaitAsync(Timeout);
        var issuers = await Task.WhenAll(sameIssuer).WaitAsync(Timeout);

        Assert.Single(ids, r => r == AccessWrite.Done);
        Assert.All(ids, r => Assert.True(r is AccessWrite.Done or AccessWrite.IdTaken, r.ToString()));
        Assert.Single(issuers, r => r == AccessWrite.Done);
        Assert.All(issuers, r => Assert.True(r is AccessWrite.Done or AccessWrite.IssuerTaken, r.ToString()));
        Assert.Equal(2, (await Wait(store.ListWorkspacesAsync(default))).Count);
    }

    [Fact]
    public async Task A_key_reads_back_exactly_as_created()
    {
        var store = await OpenAsync(CreateStore());
        await Wait(store.CreateWorkspaceAsync(Workspace("acme"), default));
        var full = new ApiKey("k_full", "acme", "CI — deploy", Scopes.PollsRead | Scopes.VotesWrite | Scopes.Admin, [0, 255, 1, 254, .. Hash("full")[4..]],
            Epoch, Epoch.AddDays(30), Epoch.AddDays(2), Epoch.AddDays(1), "key:k_admin");
        var bare = new ApiKey("k_bare", "acme", "", Scopes.None, Hash("bare"), Epoch.AddMinutes(1), null);

        await Wait(store.CreateKeyAsync(full, default));
        await Wait(store.CreateKeyAsync(bare, default));

        Assert.Equal(Fingerprint(full), Fingerprint(await Wait(store.FindKeyAsync("k_full", default))));
        Assert.Equal(Fingerprint(bare), Fingerprint(await Wait(store.FindKeyAsync("k_bare", default))));
        Assert.Null(await Wait(store.FindKeyAsync("k_BARE", default)));
    }

    [Fact]
    public async Task Keys_are_listed_newest_first_with_revoked_ones_and_only_the_workspaces_own()
    {
        var store = await OpenAsync(CreateStore());
        await Wait(store.CreateWorkspaceAsync(Workspace("a"), default));
        await Wait(store.CreateWorkspaceAsync(Workspace("b"), default));
        ApiKey[] keys = [Key("k2", "a", Epoch.AddMinutes(2)), Key("k1", "a", Epoch.AddMinutes(1)), Key("k3", "a", Epoch.AddMinutes(3)),
            Key("kb", "b", Epoch.AddMinutes(4)), Key("t-b", "a", Epoch), Key("t_a", "a", Epoch), Key("ta", "a", Epoch)];
        foreach (var key in keys)
        {
            await Wait(store.CreateKeyAsync(key, default));
        }

        var at = Epoch.AddHours(1);
        Assert.Equal(AccessWrite.Done, await Wait(store.RevokeKeyAsync("a", "k1", at, default)));

        var listed = await Wait(store.ListKeysAsync("a", default));
        Assert.Equal(["k3", "k2", "k1", "ta", "t_a", "t-b"], listed.Select(k => k.Id)); // a tie in time: ids descending, ordinal
        Assert.Equal(Fingerprint(keys[1] with { RevokedAt = at }), Fingerprint(listed[2]));
        Assert.Equal(["kb"], (await Wait(store.ListKeysAsync("b", default))).Select(k => k.Id));
        Assert.Empty(await Wait(store.ListKeysAsync("c", default)));
    }

    [Fact]
    public async Task A_key_needs_its_workspace_and_a_new_id()
    {
        var store = await OpenAsync(CreateStore());
        await Wait(store.CreateWorkspaceAsync(Workspace("acme"), default));
        await Wait(store.CreateKeyAsync(Key("k1", "acme"), default));
        var version = await Wait(store.ReadVersionAsync(default));

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CreateKeyAsync(Key("k2", "ghost"), default).WaitAsync(Timeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CreateKeyAsync(Key("k1", "acme", scopes: Scopes.Admin) with { SecretHash = Hash("other") }, default).WaitAsync(Timeout));

        Assert.Null(await Wait(store.FindKeyAsync("k2", default)));
        Assert.Equal(Fingerprint(Key("k1", "acme")), Fingerprint(await Wait(store.FindKeyAsync("k1", default))));
        Assert.Equal(version, await Wait(store.ReadVersionAsync(default)));
    }

    [Fact]
    public async Task Revoking_keeps_the_first_time_and_only_touches_the_workspaces_own_keys()
    {
        var store = await OpenAsync(CreateStore());
        await Wait(store.CreateWorkspaceAsync(Workspace("a"), default));
        await Wait(store.CreateWorkspaceAsync(Workspace("b"), default));
        await Wait(store.CreateKeyAsync(Key("ka", "a"), default));
        var v0 = await Wait(store.ReadVersionAsync(default));

        Assert.Equal(AccessWrite.NotFound, await Wait(store.RevokeKeyAsync("b", "ka", Epoch, default)));
        Assert.Equal(AccessWrite.NotFound, await Wait(store.RevokeKeyAsync("a", "ghost", Epoch, default)));
        Assert.Null((await Wait(store.FindKeyAsync("ka", default)))!.RevokedAt);
        Assert.Equal(v0, await Wait(store.ReadVersionAsync(default)));

        Assert.Equal(AccessWrite.Done, await Wait(store.RevokeKeyAsync("a", "ka", Epoch.AddSeconds(5), default)));
        var v1 = await Wait(store.ReadVersionAsync(default));
        Assert.Equal(AccessWrite.Done, await Wait(store.RevokeKeyAsync("a", "ka", Epoch.AddSeconds(9), default)));

        var key = await Wait(store.FindKeyAsync("ka", default));
        Assert.Equal(Time(Epoch.AddSeconds(5)), Time(key!.RevokedAt));
        Assert.False(key.IsActive(Epoch.AddSeconds(6)));
        Assert.True(v1 > v0);
        Assert.Equal(v1, await Wait(store.ReadVersionAsync(default))); // revoking again changes nothing
    }

    [Fact]
    public async Task Key_use_only_moves_last_used_forward_and_leaves_the_version()
    {
        var store = await OpenAsync(CreateStore());
        await Wait(store.CreateWorkspaceAsync(Workspace("acme"), default));
        await Wait(store.CreateKeyAsync(Key("k1", "acme"), default));
        await Wait(store.CreateKeyAsync(Key("k2", "acme"), default));
        var version = await Wait(store.ReadVersionAsync(default));

        await Wait(store.RecordKeyUseAsync([], default));
        await Wait(store.RecordKeyUseAsync([new("k1", Epoch.AddMinutes(5)), new("ghost", Epoch), new("k2", Epoch.AddMinutes(7)), new("k2", Epoch.AddMinutes(6))], default));
        Assert.Equal(Time(Epoch.AddMinutes(5)), Time((await Wait(store.FindKeyAsync("k1", default)))!.LastUsedAt));
        Assert.Equal(Time(Epoch.AddMinutes(7)), Time((await Wait(store.FindKeyAsync("k2", default)))!.LastUsedAt));

        await Wait(store.RecordKeyUseAsync([new("k1", Epoch.AddMinutes(4)), new("k2", Epoch.AddMinutes(8))], default));
        Assert.Equal(Time(Epoch.AddMinutes(5)), Time((await Wait(store.FindKeyAsync("k1", default)))!.LastUsedAt));
        Assert.Equal(Time(Epoch.AddMinutes(8)), Time((await Wait(store.FindKeyAsync("k2", default)))!.LastUsedAt));
        Assert.Null(await Wait(store.FindKeyAsync("ghost", default)));
        Assert.Equal(version, await Wait(store.ReadVersionAsync(default)));
    }

    [Fact]
    public async Task Every_access_write_raises_the_version_and_nothing_else_does()
    {
        var store = await OpenAsync(CreateStore());
        var versions = new List<long> { await Wait(store.ReadVersionAsync(default)) };
        async Task Raised() => versions.Add(await Wait(store.ReadVersionAsync(default)));

        await Wait(store.CreateWorkspaceAsync(Workspace("acme"), default));
        await Raised();
        await Wait(store.UpdateWorkspaceAsync(Workspace("acme", issuer: "iss"), default));
        await Raised();
        await Wait(store.UpdateWorkspaceAsync(Workspace("acme", issuer: "iss"), default)); // the same settings again: still a write
        await Raised();
        await Wait(store.CreateKeyAsync(Key("k1", "acme"), default));
        await Raised();
        await Wait(store.RevokeKeyAsync("acme", "k1", Epoch, default));
        await Raised();
        for (var i = 1; i < versions.Count; i++)
        {
            Assert.True(versions[i] > versions[i - 1], $"version {i}: {string.Join(", ", versions)}");
        }

        await Wait(store.FindWorkspaceAsync("acme", default));
        await Wait(store.FindWorkspaceByIssuerAsync("iss", default));
        await Wait(store.ListWorkspacesAsync(default));
        await Wait(store.FindKeyAsync("k1", default));
        await Wait(store.ListKeysAsync("acme", default));
        await Wait(store.RecordKeyUseAsync([new("k1", Epoch)], default));
        await Wait(store.AppendAuditAsync(Audit("acme", "key.revoked"), default));
        await Wait(store.ReadAuditAsync("acme", 10, null, default));
        await Wait(store.GetOrAddSecretAsync("jwt", Hash("s"), default));
        Assert.Equal(versions[^1], await Wait(store.ReadVersionAsync(default)));
    }

    [Fact]
    public async Task Times_read_back_as_the_same_instant_in_utc_to_the_millisecond_at_least()
    {
        var store = await OpenAsync(CreateStore());
        var plus2 = new DateTimeOffset(2026, 11, 1, 14, 0, 0, 456, TimeSpan.FromHours(2));
        var fine = Epoch.AddTicks(4567); // 0.4567 ms past a millisecond
        await Wait(store.CreateWorkspaceAsync(Workspace("acme", createdAt: plus2), default));
        await Wait(store.CreateKeyAsync(Key("k1", "acme", createdAt: plus2) with { ExpiresAt = plus2.AddDays(1) }, default));
        await Wait(store.CreateKeyAsync(Key("k2", "acme", createdAt: fine), default));
        await Wait(store.RevokeKeyAsync("acme", "k1", plus2.AddHours(1), default));
        await Wait(store.RecordKeyUseAsync([new("k1", plus2.AddMinutes(1))], default));
        var id = await Wait(store.AppendAuditAsync(Audit("acme", "key.created", plus2), default));

        var utc = plus2.ToUniversalTime();
        Assert.Equal(Fingerprint(Workspace("acme", createdAt: utc)), Fingerprint(await Wait(store.FindWorkspaceAsync("acme", default))));
        Assert.Equal(
            Fingerprint(Key("k1", "acme", createdAt: utc) with { ExpiresAt = utc.AddDays(1), RevokedAt = utc.AddHours(1), LastUsedAt = utc.AddMinutes(1) }),
            Fingerprint(await Wait(store.FindKeyAsync("k1", default))));
        Assert.Equal(Fingerprint(Audit("acme", "key.created", utc) with { Id = id }), Fingerprint((await Wait(store.ReadAuditAsync("acme", 1, null, default)))[0]));
        var kept = (await Wait(store.FindKeyAsync("k2", default)))!.CreatedAt;
        Assert.Equal(TimeSpan.Zero, kept.Offset);
        Assert.InRange(fine.UtcTicks - kept.UtcTicks, 0, TimeSpan.TicksPerMillisecond - 1); // exact, or cut to the millisecond
    }

    [Fact]
    public async Task Everything_is_there_after_reopening()
    {
        var store = await OpenAsync(CreateStore());
        var workspace = new Workspace("acme", "Acme", Epoch, new WorkspaceSettings(Jwt("iss"), ["https://app"], ["https://blog"]));
        await Wait(store.CreateWorkspaceAsync(workspace, default));
        await Wait(store.CreateKeyAsync(Key("k1", "acme"), default));
        await Wait(store.CreateKeyAsync(Key("k2", "acme", Epoch.AddMinutes(1)), default));
        await Wait(store.RevokeKeyAsync("acme", "k2", Epoch.AddMinutes(2), default));
        await Wait(store.RecordKeyUseAsync([new("k1", Epoch.AddMinutes(3))], default));
        var audit = await Wait(store.AppendAuditAsync(Audit("acme", "key.created"), default));
        var secret = await Wait(store.GetOrAddSecretAsync("jwt", Hash("secret"), default));
        var version = await Wait(store.ReadVersionAsync(default));

        if (Reopen() is not { } reopened)
        {
            return; // nothing outlives the instance (in-memory store)
        }

        var again = await OpenAsync(reopened);
        Assert.Equal(version, await Wait(again.ReadVersionAsync(default)));
        Assert.Equal(Fingerprint(workspace), Fingerprint(await Wait(again.FindWorkspaceByIssuerAsync("iss", default))));
        Assert.Equal(
            [Fingerprint(Key("k2", "acme", Epoch.AddMinutes(1)) with { RevokedAt = Epoch.AddMinutes(2) }), Fingerprint(Key("k1", "acme") with { LastUsedAt = Epoch.AddMinutes(3) })],
            (await Wait(again.ListKeysAsync("acme", default))).Select(Fingerprint));
        Assert.Equal(secret, await Wait(again.GetOrAddSecretAsync("jwt", Hash("other"), default)));
        Assert.Equal(AccessWrite.IdTaken, await Wait(again.CreateWorkspaceAsync(workspace, default)));
        Assert.Equal(AccessWrite.IssuerTaken, await Wait(again.CreateWorkspaceAsync(Workspace("other", issuer: "iss"), default)));

        var next = await Wait(again.AppendAuditAsync(Audit("acme", "key.revoked"), default));
        Assert.True(next > audit);
        Assert.Equal([next, audit], (await Wait(again.ReadAuditAsync("acme", 10, null, default))).Select(e => e.Id));
        await Wait(again.UpdateWorkspaceAsync(workspace, default));
        Assert.True(await Wait(again.ReadVersionAsync(default)) > version);
    }
}
