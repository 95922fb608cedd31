namespace Tally.Server.Webhooks;

/// <summary>Webhook delivery (<c>Tally:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    /// <summary>Whether this server delivers webhooks at all (endpoints can be managed either way). Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Lets endpoints be on loopback, private, link-local, CGNAT and other special-purpose addresses. Default false:
    /// such endpoints are refused when made and every connection is checked again (so a DNS name that later resolves
    /// to one is refused too). Turn on only when the receivers are trusted services on your own network.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Lets endpoints be plain <c>http://</c> URLs. Default false: <c>https://</c> only.</summary>
    public bool AllowHttp { get; set; }

    /// <summary>How long one message is retried before its endpoint is disabled. Default 25 hours (at least a day).</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(25);

    /// <summary>The wait before the first retry; each retry doubles it (with ±20% jitter) up to <see cref="MaxRetryDelay"/>. Default 5 s.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts. Default 1 hour.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long one attempt may take (connect, send, answer). Default 15 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a rotated-out secret keeps signing beside the new one. Default 24 hours.</summary>
    public TimeSpan SecretOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The most endpoints one workspace may have. Default 20.</summary>
    public int MaxEndpointsPerWorkspace { get; set; } = 20;

    /// <summary>How often the dispatcher reads the endpoints again (changes made on another node). Default 1 s.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an endpoint that has every event looks for new ones. Default 50 ms.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How often an endpoint's cursor and delivery log are saved while it delivers. Default 250 ms.</summary>
    public TimeSpan SaveInterval { get; set; } = TimeSpan.FromMilliseconds(250);
}
