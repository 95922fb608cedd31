using Tally.Webhooks;
using Xunit;

namespace Tally.Testing;

/// <summary>
/// What every <see cref="IWebhookStore"/> must do; each adapter's test class inherits this. Times are kept to the
/// millisecond and read back in UTC.
/// </summary>
public abstract class WebhookStoreSpecification : IAsyncLifetime
{
    protected static readonly DateTimeOffset Epoch = new(2026, 12, 1, 9, 30, 15, 123, TimeSpan.Zero);

    protected static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>A store on fresh, empty storage; <see cref="Reopen"/> another on the same storage (a restart, another node).</summary>
    protected abstract IWebhookStore CreateStore();

    protected abstract IWebhookStore? Reopen();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task An_endpoint_reads_back_exactly_as_created_and_after_a_restart()
    {
        var store = await OpenAsync(CreateStore());
        var full = Endpoint("wh_0000000000000001", "acme") with
        {
            Description = "Ünïcode \"quoted\" <b>",
            Voters = WebhookVoters.Raw,
            Events = WebhookEvents.VoteCounted | WebhookEvents.QuestionRevealed,
            Secrets = [new WebhookSecret([1, 2, 3, 255], Epoch.AddHours(1)), new WebhookSecret([9, 8], Epoch, Epoch.AddDays(1))],
            Enabled = false,
            DisabledReason = "the receiver answered 410 Gone",
            DisabledAt = Epoch.AddMinutes(5),
            Cursor = 4242,
        };
        var bare = Endpoint("wh_0000000000000002", "acme");
        Assert.True(await Wait(store.CreateAsync(full, default)));
        Assert.True(await Wait(store.CreateAsync(bare, default)));
        Assert.False(await Wait(store.CreateAsync(bare with { Url = "https://other.example/" }, default)));

        foreach (var s in new[] { store, Reopen() is { } again ? await OpenAsync(again) : store })
        {
            Assert.Equal(Fingerprint(full), Fingerprint(await Wait(s.FindAsync("acme", full.Id, default))));
            Assert.Equal(Fingerprint(bare), Fingerprint(await Wait(s.FindAsync("acme", bare.Id, default))));
            Assert.Equal(TimeSpan.Zero, (await Wait(s.FindAsync("acme", full.Id, default)))!.CreatedAt.Offset);
        }
    }

    [Fact]
    public async Task Endpoints_belong_to_their_workspace()
    {
        var store = await OpenAsync(CreateStore());
        await Wait(store.CreateAsync(Endpoint("wh_000000000000000b", "acme"), default));
        await Wait(store.CreateAsync(Endpoint("wh_000000000000000a", "acme"), default));
        await Wait(store.CreateAsync(Endpoint("wh_000000000000000c", "other"), default));

        Assert.Equal(["wh_000000000000000a", "wh_000000000000000b"], (await Wait(store.ListAsync("acme", default))).Select(e => e.Id));
        Assert.Equal(["wh_000000000000000a", "wh_000000000000000b", "wh_000000000000000c"], (await Wait(store.ListAsync(null, default))).Select(e => e.Id));
        Assert.Null(await Wait(store.FindAsync("other", "wh_000000000000000a", default)));
        Assert.False(await Wait(store.UpdateAsync(Endpoint("wh_000000000000000a", "other"), default)));
        Assert.False(await Wait(store.DeleteAsync("other", "wh_000000000000000a", default)));
        Assert.False(await Wait(store.SetCursorAsync("other", "wh_000000000000000a", 7, default)));
        Assert.Equal(0, (await Wait(store.FindAsync("acme", "wh_000000000000000a", default)))!.Cursor);
    }

    [Fact]
    public async Task An_update_changes_the_settings_but_never_the_cursor_or_creation_time()
    {
        var store = await OpenAsync(CreateStore());
        var e = Endpoint("wh_0000000000000001", "acme") with { Cursor = 10 };
        await Wait(store.CreateAsync(e, default));
        var changed = e with { Url = "https://new.example/hook", Events = WebhookEvents.PollClosed, Cursor = 999, CreatedAt = Epoch.AddYears(1), Enabled = false, DisabledReason = "x" };

        Assert.True(await Wait(store.UpdateAsync(changed, default)));
        Assert.False(await Wait(store.UpdateAsync(changed with { Id = "wh_00000000000000ff" }, default)));

        var read = (await Wait(store.FindAsync("acme", e.Id, default)))!;
        Assert.Equal(Fingerprint(changed with { Cursor = 10, CreatedAt = e.CreatedAt }), Fingerprint(read));
    }

    [Fact]
    public async Task Progress_moves_the_cursor_only_from_where_it_is_and_always_keeps_the_attempts()
    {
        var store = await OpenAsync(CreateStore());
        var id = "wh_0000000000000001";
        await Wait(store.CreateAsync(Endpoint(id, "acme") with { Cursor = 5 }, default));

        Assert.True(await Wait(store.SaveProgressAsync(id, 5, 9, [Attempt(id, "msg_p_1", 6, 1, true), Attempt(id, "msg_p_2", 9, 1, false)], default)));
        Assert.Equal(9, (await Wait(store.FindAsync("acme", id, default)))!.Cursor);

        // A replay set the cursor meanwhile: the stale save is refused, its attempts kept.
        Assert.True(await Wait(store.SetCursorAsync("acme", id, 2, default)));
        Assert.False(await Wait(store.SaveProgressAsync(id, 9, 12, [Attempt(id, "msg_p_2", 9, 2, true)], default)));
        Assert.Equal(2, (await Wait(store.FindAsync("acme", id, default)))!.Cursor);
        Assert.True(await Wait(store.SaveProgressAsync(id, 2, 3, [], default)));

        var attempts = await Wait(store.ReadAttemptsAsync(id, 10, null, default));
        Assert.Equal([("msg_p_2", 2, true), ("msg_p_2", 1, false), ("msg_p_1", 1, true)], attempts.Select(a => (a.MessageId, a.Attempt, a.Succeeded)));
        Assert.True(attempts[0].Id > attempts[1].Id && attempts[1].Id > attempts[2].Id);
        var first = attempts[2];
        Assert.Equal((id, "vote.counted", 6L, 200, 12, (string?)null, Epoch), (first.EndpointId, first.EventType, first.Position, first.Status, first.DurationMs, first.Error, first.At));
        Assert.Equal(TimeSpan.Zero, first.At.Offset);
        Assert.Equal("answered 503", attempts[1].Error);
        Assert.False(await Wait(store.SaveProgressAsync("wh_00000000000000ff", 0, 1, [], default)));
    }

    [Fact]
    public async Task The_delivery_log_pages_newest_first_and_keeps_the_last_attempts_only()
    {
        var store = await OpenAsync(CreateStore());
        var id = "wh_0000000000000001";
        await Wait(store.CreateAsync(Endpoint(id, "acme"), default));
        await Wait(store.CreateAsync(Endpoint("wh_0000000000000002", "acme"), default));
        await Wait(store.SaveProgressAsync("wh_0000000000000002", 0, 0, [Attempt("wh_0000000000000002", "msg_q_1", 1, 1, true)], default));
        var total = IWebhookStore.AttemptsKept + 50;
        var cursor = 0L;
        for (var from = 0; from < total; from += 300)
        {
            var batch = Enumerable.Range(from + 1, Math.Min(300, total - from)).Select(i => Attempt(id, "msg_p_" + i, i, 1, true)).ToArray();
            Assert.True(await Wait(store.SaveProgressAsync(id, cursor, batch[^1].Position, batch, default)));
            cursor = batch[^1].Position;
        }

        var seen = new List<string>();
        long? before = null;
        while (true)
        {
            var page = await Wait(store.ReadAttemptsAsync(id, 128, before, default));
            seen.AddRange(page.Select(a => a.MessageId));
            if (page.Count < 128)
            {
                break;
            }

            before = page[^1].Id;
        }

        Assert.Equal(Enumerable.Range(51, IWebhookStore.AttemptsKept).Reverse().Select(i => "msg_p_" + i), seen);
        Assert.Single(await Wait(store.ReadAttemptsAsync("wh_0000000000000002", 10, null, default)));
    }

    [Fact]
    public async Task Deleting_an_endpoint_deletes_its_delivery_log()
    {
        var store = await OpenAsync(CreateStore());
        var id = "wh_0000000000000001";
        await Wait(store.CreateAsync(Endpoint(id, "acme"), default));
        await Wait(store.SaveProgressAsync(id, 0, 1, [Attempt(id, "msg_p_1", 1, 1, true)], default));

        Assert.True(await Wait(store.DeleteAsync("acme", id, default)));
        Assert.False(await Wait(store.DeleteAsync("acme", id, default)));
        Assert.Null(await Wait(store.FindAsync("acme", id, default)));
        Assert.Empty(await Wait(store.ReadAttemptsAsync(id, 10, null, default)));
        Assert.True(await Wait(store.CreateAsync(Endpoint(id, "acme"), default)));
        Assert.Empty(await Wait(store.ReadAttemptsAsync(id, 10, null, default)));
    }

    protected static WebhookEndpoint Endpoint(string id, string workspace) =>
        new(id, workspace, "https://hooks.example.com/tally?x=1", WebhookEvents.VoteCounted, [new WebhookSecret([7, 7, 7], Epoch)], Epoch);

    protected static WebhookAttempt Attempt(string endpoint, string messageId, long position, int attempt, bool succeeded) =>
        new(0, endpoint, messageId, "vote.counted", position, attempt, Epoch, succeeded ? 200 : 503, succeeded, 12, succeeded ? null : "answered 503");

    protected static async Task<IWebhookStore> OpenAsync(IWebhookStore store)
    {
        await store.OpenAsync(default).WaitAsync(Timeout);
        return store;
    }

    protected static Task<T> Wait<T>(Task<T> task) => task.WaitAsync(Timeout);

    private static string Fingerprint(WebhookEndpoint? e) => e is null ? "none" : string.Join("|",
        e.Id, e.Workspace, e.Url, (int)e.Events, e.Description, (int)e.Voters, e.Enabled, e.DisabledReason, e.DisabledAt?.UtcTicks, e.Cursor, e.CreatedAt.UtcTicks,
        string.Join(",", e.Secrets.Select(s => Convert.ToHexString(s.Sealed) + "@" + s.CreatedAt.UtcTicks + "-" + s.ExpiresAt?.UtcTicks)));
}
