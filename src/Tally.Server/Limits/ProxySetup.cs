using Microsoft.Extensions.Options;

namespace Tally.Server.Limits;

/// <summary>
/// Reads <c>Tally:Proxies:Trusted</c> as a comma-separated value or as a list (the configuration binder would append a
/// list to the default rather than replace it, and would not split a value); an empty value trusts no proxy.
/// </summary>
internal sealed class ProxySetup(IConfiguration configuration) : IConfigureOptions<ProxyOptions>
{
    public const string Section = "Tally:Proxies:Trusted";

    public void Configure(ProxyOptions options)
    {
        var section = configuration.GetSection(Section);
        if (section.Value is { } value)
        {
            options.Trusted = Split(value);
        }
        else if (section.GetChildren().Select(c => c.Value).OfType<string>().ToList() is { Count: > 0 } items)
        {
            options.Trusted = [.. items.SelectMany(Split)];
        }
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
