using Microsoft.Extensions.Options;

namespace Tally.Server.Security;

/// <summary>Checks <see cref="HttpLimitsOptions"/> and returns every failure at once.</summary>
internal sealed class HttpLimitsValidation : IValidateOptions<HttpLimitsOptions>
{
    /// <summary>Kestrel enforces rates on its 1 s heartbeat and refuses a grace period that is not longer.</summary>
    private static readonly TimeSpan MinGrace = TimeSpan.FromSeconds(1);

    public ValidateOptionsResult Validate(string? name, HttpLimitsOptions options)
    {
        var failures = new List<string>();
        Positive(options.RequestHeadersTimeout, nameof(options.RequestHeadersTimeout));
        Positive(options.KeepAliveTimeout, nameof(options.KeepAliveTimeout));
        Rate(options.MinRequestBodyBytesPerSecond, options.MinRequestBodyGrace, nameof(options.MinRequestBodyBytesPerSecond), nameof(options.MinRequestBodyGrace));
        Rate(options.MinResponseBytesPerSecond, options.MinResponseGrace, nameof(options.MinResponseBytesPerSecond), nameof(options.MinResponseGrace));
        Positive(options.MaxRequestLineBytes, nameof(options.MaxRequestLineBytes));
        Positive(options.MaxRequestHeadersBytes, nameof(options.MaxRequestHeadersBytes));
        Positive(options.MaxRequestHeaderCount, nameof(options.MaxRequestHeaderCount));
        Positive(options.Http2MaxStreamsPerConnection, nameof(options.Http2MaxStreamsPerConnection));
        Positive(options.Http2MaxHeaderFieldBytes, nameof(options.Http2MaxHeaderFieldBytes));
        if (options.Http2HeaderTableBytes < 0)
        {
            failures.Add($"Tally:Http:{nameof(options.Http2HeaderTableBytes)} must be 0 or more.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive<T>(T value, string setting)
            where T : IComparable<T>
        {
            if (value.CompareTo(default!) <= 0)
            {
                failures.Add($"Tally:Http:{setting} must be more than zero.");
            }
        }

        void Rate(double bytesPerSecond, TimeSpan grace, string rateSetting, string graceSetting)
        {
            if (bytesPerSecond < 0 || !double.IsFinite(bytesPerSecond))
            {
                failures.Add($"Tally:Http:{rateSetting} must be 0 (off) or more.");
            }
            else if (bytesPerSecond > 0 && grace <= MinGrace)
            {
                failures.Add($"Tally:Http:{graceSetting} must be longer than 1 s (Kestrel checks rates once a second).");
            }
        }
    }
}
