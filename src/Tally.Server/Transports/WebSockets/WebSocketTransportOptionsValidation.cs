using Microsoft.Extensions.Options;

namespace Tally.Server.Transports.WebSockets;

/// <summary>Checks <see cref="WebSocketTransportOptions"/> (<c>Tally:WebSockets</c>) at start and reports every bad setting at once.</summary>
internal sealed class WebSocketTransportOptionsValidation : IValidateOptions<WebSocketTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, WebSocketTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxMessageBytes < 256)
        {
            failures.Add($"Tally:WebSockets:MaxMessageBytes is at least 256 (it is {options.MaxMessageBytes}).");
        }

        if (options.MaxSubscriptions < 1)
        {
            failures.Add($"Tally:WebSockets:MaxSubscriptions is at least 1 (it is {options.MaxSubscriptions}).");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero)
        {
            failures.Add($"Tally:WebSockets:KeepAliveInterval must not be negative; 0 turns server pings off (it is {options.KeepAliveInterval}).");
        }

        if (options.KeepAliveTimeout < TimeSpan.Zero)
        {
            failures.Add($"Tally:WebSockets:KeepAliveTimeout must not be negative (it is {options.KeepAliveTimeout}).");
        }

        if (options.CloseTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Tally:WebSockets:CloseTimeout must be more than zero (it is {options.CloseTimeout}).");
        }

        if (options.CompressionThreshold < 0)
        {
            failures.Add($"Tally:WebSockets:CompressionThreshold must not be negative (it is {options.CompressionThreshold}).");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
