using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tally.Cluster.Hosting;

namespace Tally.Cluster.Tests.Hosting;

/// <summary>A node's start waits for JetStream and PostgreSQL while they cannot answer yet, and fails at once on a real refusal.</summary>
public sealed class StartupRetryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_start_that_meets_a_refused_connection_is_tried_again_until_it_succeeds()
    {
        var tries = 0;
        await StartupRetry.RunAsync("PostgreSQL", _ =>
        {
            if (++tries < 3)
            {
                throw new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused));
            }

            return Task.CompletedTask;
        }, TimeSpan.FromMinutes(1), NullLogger.Instance, default).WaitAsync(Timeout);
        Assert.Equal(3, tries);
    }

    [Fact]
    public async Task A_real_refusal_fails_at_once()
    {
        var tries = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => StartupRetry.RunAsync("JetStream", _ =>
        {
            tries++;
            throw new InvalidOperationException("stream name already in use with a different configuration");
        }, TimeSpan.FromMinutes(1), NullLogger.Instance, default).WaitAsync(Timeout));
        Assert.Equal(1, tries);
    }

    [Fact]
    public async Task Past_the_limit_the_last_failure_is_thrown()
    {
        var tries = 0;
        await Assert.ThrowsAsync<TimeoutException>(() => StartupRetry.RunAsync("JetStream", _ =>
        {
            tries++;
            throw new TimeoutException("no answer");
        }, TimeSpan.FromMilliseconds(600), NullLogger.Instance, default).WaitAsync(Timeout));
        Assert.InRange(tries, 2, 3); // 250 ms, then 500 ms would pass the limit
    }

    [Theory]
    [InlineData("57P01", true)] // the server was shut down (a restart)
    [InlineData("57P03", true)] // starting up
    [InlineData("28P01", false)] // a wrong password
    [InlineData("42P01", false)] // a missing table: a bug, not a wait
    public void PostgreSQL_errors_are_waited_for_only_when_the_server_is_restarting(string sqlState, bool transient) =>
        Assert.Equal(transient, StartupRetry.IsTransient(new PostgresException("message", "FATAL", "FATAL", sqlState)));
}
