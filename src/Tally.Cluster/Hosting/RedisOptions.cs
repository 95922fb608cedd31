using StackExchange.Redis;

namespace Tally.Cluster.Hosting;

/// <summary>Where Redis is (section <c>Tally:Redis</c>).</summary>
public sealed class RedisOptions
{
    /// <summary>A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>. Required in cluster mode.</summary>
    public string? Configuration { get; set; }

    public bool IsValid()
    {
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            return false;
        }

        try
        {
            return ConfigurationOptions.Parse(Configuration).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The parsed options; a node starts (and keeps retrying) while Redis is away.</summary>
    public ConfigurationOptions ToOptions()
    {
        var options = ConfigurationOptions.Parse(Configuration!);
        options.AbortOnConnectFail = false;
        return options;
    }
}
