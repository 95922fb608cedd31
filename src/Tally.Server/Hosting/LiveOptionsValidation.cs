using Microsoft.Extensions.Options;
using Tally.Live;

namespace Tally.Server.Hosting;

/// <summary>Checks <see cref="LiveOptions"/> (<c>Tally:Live</c>) at start and reports every bad setting at once.</summary>
internal sealed class LiveOptionsValidation : IValidateOptions<LiveOptions>
{
    public ValidateOptionsResult Validate(string? name, LiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Failures() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
