namespace Tally.Server.Hosting;

/// <summary>Settings of the server host (section <c>Tally</c>; <c>TALLY_ADMIN_KEY</c> and <c>TALLY_DATA</c> override).</summary>
public sealed class TallyServerOptions
{
    /// <summary>The largest request body Kestrel takes at all (set in <c>TallyApp</c>); the body limits below are at most this.</summary>
    internal const int MaxRequestBodyBytes = 8 * 1024 * 1024;

    /// <summary>The admin key for management endpoints. When unset, one is generated and kept in the data folder (<c>admin.key</c>, mode 0600); the log says where, never the key.</summary>
    public string? AdminKey { get; set; }

    /// <summary>The data folder (event log, snapshots, generated admin key). Default <c>./data</c>.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>
    /// The data folder <see cref="DataPath"/> ends up with, read from configuration alone (<c>TALLY_DATA</c>, else
    /// <c>Tally:DataPath</c>, else <c>./data</c>), for settings that follow it without depending on these options' checks.
    /// </summary>
    internal static string DataPathIn(IConfiguration configuration) =>
        configuration["TALLY_DATA"] is { Length: > 0 } data ? data : configuration["Tally:DataPath"] ?? new TallyServerOptions().DataPath;

    /// <summary>Largest body of a single request, except batches. Default 64 KiB.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Largest body of <c>POST /v1/votes/batch</c>. Default 4 MiB.</summary>
    public int MaxBatchBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most votes in one batch. Default 10,000 (the contract's limit).</summary>
    public int MaxBatchVotes { get; set; } = 10_000;
}
