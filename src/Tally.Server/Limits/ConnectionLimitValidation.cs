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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
