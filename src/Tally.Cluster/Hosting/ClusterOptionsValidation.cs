using Microsoft.Extensions.Options;

namespace Tally.Cluster.Hosting;

/// <summary>Checks <see cref="ClusterOptions"/> at start and reports every bad setting at once.</summary>
internal sealed class ClusterOptionsValidation : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Failures() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
