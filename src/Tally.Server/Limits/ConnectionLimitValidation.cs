using Microsoft.Extensions.Options;

namespace Tally.Server.Limits;

/// <summary>Checks <see cref="ConnectionLimitOptions"/> and returns every failure at once.</summary>
internal sealed class ConnectionLimitValidation : IValidateOptions<ConnectionLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, ConnectionLimitOptions options)
    {
        var failures = new List<string>();
        if (options.MaxStreamsPerIp < 0)
        {
            failures.Add("Tally:Connections:MaxStreamsPerIp must be 0 (no cap) or more.");
        }

        if (options.MaxConnectionsPerIp < 0)
        {
            failures.Add("Tally:Connections:MaxConnectionsPerIp must be 0 (no cap) or more.");
        }
        else if (options.MaxConnectionsPerIp > 0 && options.MaxStreamsPerIp > options.MaxConnectionsPerIp)
        {
            failures.Add("Tally:Connections:MaxConnectionsPerIp must be at least Tally:Connections:MaxStreamsPerIp (each WebSocket or SSE stream over HTTP/1.1 holds a connection), or 0.");
        }

        if (options.MaxConnections < 0)
        {
            failures.Add("Tally:Connections:MaxConnections must be 0 (no cap) or more, or unset (below the open-file limit).");
        }
        else if (options.MaxConnections > 0 && OpenFileLimit.Current() is { } limit && options.MaxConnections > limit - 1)
        {
            failures.Add($"Tally:Connections:MaxConnections ({options.MaxConnections}) must be below the process's open-file limit ({limit}): each connection holds a file descriptor, and the server needs some for its own files. Raise the limit (ulimit -n, systemd LimitNOFILE, docker --ulimit nofile) or leave the setting unset.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
