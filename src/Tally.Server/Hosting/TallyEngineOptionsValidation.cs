using Microsoft.Extensions.Options;
using Tally.Engine;

namespace Tally.Server.Hosting;

/// <summary>Checks <see cref="TallyEngineOptions"/> (<c>Tally:Engine</c>) at start and reports every bad setting at once.</summary>
internal sealed class TallyEngineOptionsValidation : IValidateOptions<TallyEngineOptions>
{
    public ValidateOptionsResult Validate(string? name, TallyEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Failures() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
