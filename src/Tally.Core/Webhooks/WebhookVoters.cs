namespace Tally.Webhooks;

/// <summary>How an endpoint's payloads show the voter (as exports do, with the same hash).</summary>
public enum WebhookVoters
{
    /// <summary><c>"h:"</c> and 32 hex digits of an HMAC under a server key: stable, the export's hash.</summary>
    Hashed = 0,

    /// <summary>The voter id as the poll knows it.</summary>
    Raw = 1,

    /// <summary>No voter at all.</summary>
    Omitted = 2,
}
