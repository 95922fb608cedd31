namespace Tally.Cluster.Hosting;

/// <summary>Where NATS is (section <c>Tally:Nats</c>).</summary>
public sealed class NatsOptions
{
    /// <summary>The NATS server(s), e.g. <c>nats://127.0.0.1:4222</c> (comma-separated for several). Required in cluster mode.</summary>
    public string? Url { get; set; }

    /// <summary>True when <see cref="Url"/> is one or more nats:// (or tls://) URLs.</summary>
    public bool IsValid() =>
        !string.IsNullOrWhiteSpace(Url)
        && Url.Split(',', StringSplitOptions.TrimEntries).All(u =>
            Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "nats" or "tls" or "ws" or "wss" && !string.IsNullOrEmpty(uri.Host));
}
