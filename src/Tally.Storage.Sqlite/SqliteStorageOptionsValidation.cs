using Microsoft.Extensions.Options;

namespace Tally.Storage.Sqlite;

/// <summary>Checks <see cref="SqliteStorageOptions"/> (<c>Tally:Sqlite</c>) at start and reports every bad setting at once.</summary>
internal sealed class SqliteStorageOptionsValidation : IValidateOptions<SqliteStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, SqliteStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataPath))
        {
            failures.Add("Tally:Sqlite:DataPath (TALLY_DATA) must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.FileName))
        {
            failures.Add("Tally:Sqlite:FileName must not be empty.");
        }

        if (options.Synchronous?.ToUpperInvariant() is not ("FULL" or "EXTRA" or "NORMAL"))
        {
            failures.Add($"Tally:Sqlite:Synchronous is FULL, EXTRA or NORMAL, not \"{options.Synchronous}\".");
        }

        if (options.OlderSnapshotsKept < 0)
        {
            failures.Add($"Tally:Sqlite:OlderSnapshotsKept must not be negative (it is {options.OlderSnapshotsKept}).");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
