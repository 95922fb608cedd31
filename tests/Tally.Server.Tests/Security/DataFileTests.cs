using System.Net;
using System.Net.Http.Headers;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Security;

/// <summary>
/// What Tally keeps on disk is the user's alone: a data folder it creates is 0700, the SQLite database and its
/// -wal and -shm files 0600 (looser ones are tightened at start), a generated admin key 0600; and the log says
/// where the generated key is, never the key.
/// </summary>
[UnsupportedOSPlatform("windows")] // Unix modes; Tally runs on Debian
public sealed class DataFileTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = OwnerOnly | UnixFileMode.UserExecute;

    private readonly string _parent = Directory.CreateTempSubdirectory("tally-files-").FullName;

    private string DataPath => Path.Combine(_parent, "data");

    private string DatabasePath => Path.Combine(DataPath, "tally.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_parent, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_data_folder_Tally_creates_is_0700_and_the_database_with_its_wal_and_shm_files_0600()
    {
        await using var server = await TestServer.StartAsync(dataPath: DataPath);
        await VoteOnceAsync(server);

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(DataPath));
        foreach (var file in new[] { DatabasePath, DatabasePath + "-wal", DatabasePath + "-shm" })
        {
            Assert.True(File.Exists(file), file);
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task Database_files_others_could_read_are_made_0600_at_start_and_the_log_says_so_once()
    {
        await using (var first = await TestServer.StartAsync(dataPath: DataPath))
        {
            await VoteOnceAsync(first);
        }

        // As an older version left them: the folder and the files readable by everyone.
        File.SetUnixFileMode(DataPath, OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var loose = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(DatabasePath, loose);

        await using var server = await TestServer.StartAsync(dataPath: DataPath, configure: builder => builder.Logging.AddFakeLogging());
        await VoteOnceAsync(server);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(DatabasePath));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(DatabasePath + "-wal")); // made again by SQLite, with the database's mode
        var tightened = Assert.Single(server.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 4000);
        Assert.Contains(DatabasePath, tightened.Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Warning, tightened.Level);
        Assert.NotEqual(OwnerOnlyFolder, File.GetUnixFileMode(DataPath)); // a folder that was there is the operator's
    }

    [Fact]
    public async Task A_generated_admin_key_is_0600_and_the_log_names_its_file_and_fingerprint_never_the_key()
    {
        var settings = new Dictionary<string, string> { ["TALLY_ADMIN_KEY"] = "" }; // unset: the server generates one
        await using var server = await TestServer.StartAsync(settings, builder => builder.Logging.AddFakeLogging(), DataPath);
        var keyPath = Path.Combine(DataPath, "admin.key");
        var key = (await File.ReadAllTextAsync(keyPath)).Trim();

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(DataPath));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(keyPath));
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8];
        AssertLoggedWhereNotWhat(server, key, keyPath, fingerprint, "generated at this start");

        // The key from the file is the one the server takes (README: cat data/admin.key).
        using (var admin = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout })
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var polls = await admin.GetAsync("/v1/polls");
            Assert.Equal(HttpStatusCode.OK, polls.StatusCode);
        }

        await server.RestartAsync();
        AssertLoggedWhereNotWhat(server, key, keyPath, fingerprint, "generated at an earlier start");
    }

    private static void AssertLoggedWhereNotWhat(TestServer server, string key, string keyPath, string fingerprint, string source)
    {
        var records = server.Services.GetFakeLogCollector().GetSnapshot();
        var kept = Assert.Single(records, r => r.Id.Id == 1005);
        Assert.Contains(source, kept.Message, StringComparison.Ordinal);
        Assert.Contains(keyPath, kept.Message, StringComparison.Ordinal);
        Assert.Contains(fingerprint, kept.Message, StringComparison.Ordinal);
        Assert.All(records, r => Assert.DoesNotContain(key, r.Message, StringComparison.Ordinal));
        Assert.All(records, r => Assert.DoesNotContain(key, string.Join(" ", r.StructuredState?.Select(kv => kv.Value) ?? []), StringComparison.Ordinal));
    }

    private static async Task VoteOnceAsync(TestServer server)
    {
        var id = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
        using var vote = await server.Client.VoteAsync(id, [1], "ann");
        Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
    }
}
