using Microsoft.Extensions.Options;

namespace Tally.Server.Webhooks;

/// <summary>Every rule of <see cref="WebhookOptions"/>, each failure reported.</summary>
internal sealed class WebhookOptionsValidation : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        Positive(failures, "RetryFor", options.RetryFor);
        Positive(failures, "FirstRetryDelay", options.FirstRetryDelay);
        Positive(failures, "MaxRetryDelay", options.MaxRetryDelay);
        Positive(failures, "Timeout", options.Timeout);
        Positive(failures, "RefreshInterval", options.RefreshInterval);
        Positive(failures, "PollInterval", options.PollInterval);
        Positive(failures, "SaveInterval", options.SaveInterval);
        if (options.SecretOverlap < TimeSpan.Zero)
        {
            failures.Add("Tally:Webhooks:SecretOverlap is zero or more.");
        }

        if (options.MaxRetryDelay < options.FirstRetryDelay)
        {
            failures.Add("Tally:Webhooks:MaxRetryDelay is at least FirstRetryDelay.");
        }

        if (options.MaxEndpointsPerWorkspace is < 1 or > 1000)
        {
            failures.Add("Tally:Webhooks:MaxEndpointsPerWorkspace is 1 to 1000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"Tally:Webhooks:{name} is a positive time span (hh:mm:ss).");
        }
    }
}
