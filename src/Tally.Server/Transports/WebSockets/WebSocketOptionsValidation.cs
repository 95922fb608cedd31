using Microsoft.Extensions.Options;

namespace Tally.Server.Transports.WebSockets;

/// <summary>Checks <see cref="WebSocketTransportOptions"/> and returns every failure at once, each naming its setting.</summary>
internal sealed class WebSocketOptionsValidation : IValidateOptions<WebSocketTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, WebSocketTransportOptions options)
    {
        var failures = new List<string>();
        if (options.MaxMessageBytes < 256)
        {
            failures.Add("Tally:WebSockets:MaxMessageBytes must be 256 or more.");
        }

        if (options.MaxSubscriptions < 1)
        {
            failures.Add("Tally:WebSockets:MaxSubscriptions must be 1 or more.");
        }

        if (!double.IsFinite(options.MessagesPerSecond) || options.MessagesPerSecond < 0 || (options.MessagesPerSecond > 0 && options.MessagesPerSecond < 0.01) || options.MessagesPerSecond > 10_000_000)
        {
            failures.Add("Tally:WebSockets:MessagesPerSecond must be 0 (no limit) or 0.01 to 10,000,000.");
        }

        if (options.MessagesPerSecond != 0 && options.MessageBurst is < 1 or > 10_000_000)
        {
            failures.Add("Tally:WebSockets:MessageBurst must be 1 to 10,000,000.");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero)
        {
            failures.Add("Tally:WebSockets:KeepAliveInterval must be 0 (no pings) or more.");
        }

        if (options.KeepAliveTimeout < TimeSpan.Zero)
        {
            failures.Add("Tally:WebSockets:KeepAliveTimeout must be 0 (never drop) or more.");
        }

        if (options.CloseTimeout <= TimeSpan.Zero)
        {
            failures.Add("Tally:WebSockets:CloseTimeout must be more than zero.");
        }

        if (options.CompressionThreshold < 0)
        {
            failures.Add("Tally:WebSockets:CompressionThreshold must be 0 or more.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
