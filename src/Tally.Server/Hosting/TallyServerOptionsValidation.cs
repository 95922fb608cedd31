using Microsoft.Extensions.Options;

namespace Tally.Server.Hosting;

/// <summary>Checks <see cref="TallyServerOptions"/> (section <c>Tally</c>) at start and reports every bad setting at once.</summary>
internal sealed class TallyServerOptionsValidation : IValidateOptions<TallyServerOptions>
{
    public ValidateOptionsResult Validate(string? name, TallyServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        BodyLimit(options.MaxBodyBytes, nameof(options.MaxBodyBytes));
        BodyLimit(options.MaxBatchBodyBytes, nameof(options.MaxBatchBodyBytes));
        if (options.MaxBatchVotes < 1)
        {
            failures.Add($"Tally:MaxBatchVotes is at least 1 (it is {options.MaxBatchVotes}).");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;

        void BodyLimit(int bytes, string setting)
        {
            if (bytes is < 1 or > TallyServerOptions.MaxRequestBodyBytes)
            {
                failures.Add($"Tally:{setting} is from 1 to {TallyServerOptions.MaxRequestBodyBytes} bytes, Kestrel's limit (it is {bytes}).");
            }
        }
    }
}
