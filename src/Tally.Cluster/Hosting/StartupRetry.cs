using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Npgsql;

namespace Tally.Cluster.Hosting;

/// <summary>
/// A cluster node's start, retried while what it needs cannot answer yet: JetStream right after its servers form a
/// cluster or while one restarts (the API times out or says 503 until a leader is elected), PostgreSQL while it restarts
/// (connection refused). A node started then waits, logging each try, for up to <c>Tally:Cluster:StartTimeout</c>,
/// instead of exiting; a real refusal (a stream of another configuration, a wrong password) fails at once.
/// </summary>
public static class StartupRetry
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <param name="what">What is starting, for the log ("JetStream", "the access store").</param>
    public static async Task RunAsync(string what, Func<CancellationToken, Task> start, TimeSpan limit, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(logger);
        var clock = Stopwatch.StartNew();
        var delay = FirstDelay;
        while (true)
        {
            try
            {
                await start(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsTransient(ex) && clock.Elapsed + delay < limit && !cancellationToken.IsCancellationRequested)
            {
                ClusterLog.StartRetried(logger, what, ex.GetType().Name, ex.Message, (long)delay.TotalMilliseconds, (long)(limit - clock.Elapsed).TotalSeconds);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }

    /// <summary>No answer, no responders, a timeout, JetStream's "temporarily unavailable", a connection that failed.</summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        NatsJSApiNoResponseException or NatsNoRespondersException or NatsJSTimeoutException or NatsNoReplyException or TimeoutException or SocketException => true,
        NatsJSApiException api => api.Error.Code is 503 or 408 or 504,
        NpgsqlException { IsTransient: true } => true,
        PostgresException { SqlState: "57P01" or "57P03" } => true, // terminated by an administrator (a restart); starting up
        NatsException { InnerException: { } inner } => IsTransient(inner),
        NpgsqlException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };
}
