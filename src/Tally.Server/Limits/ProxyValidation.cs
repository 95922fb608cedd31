using Microsoft.Extensions.Options;

namespace Tally.Server.Limits;

/// <summary>Names every entry of <c>Tally:Proxies:Trusted</c> that is not an address or a CIDR range.</summary>
internal sealed class ProxyValidation : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        var failures = options.Trusted
            .Where(entry => !TrustedProxies.TryParse(entry, out _))
            .Select(entry => $"{ProxySetup.Section}: \"{Contracts.ContractMapping.Clip(entry)}\" is not an IP address or a CIDR range such as 10.0.0.0/8.")
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
