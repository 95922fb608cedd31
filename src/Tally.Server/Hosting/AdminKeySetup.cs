using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Tally.Server.Hosting;

/// <summary>
/// Fills <see cref="TallyServerOptions.AdminKey"/>: from <c>TALLY_ADMIN_KEY</c>, else from the key
/// generated at an earlier start (<c>admin.key</c> in the data folder), else a new random one that is
/// saved there so that restarts keep it.
/// </summary>
internal sealed class AdminKeySetup(IConfiguration configuration) : IPostConfigureOptions<TallyServerOptions>
{
    public const string FileName = "admin.key";

    public void PostConfigure(string? name, TallyServerOptions options)
    {
        if (configuration["TALLY_DATA"] is { Length: > 0 } data)
        {
            options.DataPath = data;
        }

        if (configuration["TALLY_ADMIN_KEY"] is { Length: > 0 } key)
        {
            options.AdminKey = key;
        }

        if (!string.IsNullOrEmpty(options.AdminKey))
        {
            return;
        }

        var path = Path.Combine(options.DataPath, FileName);
        KeyPath = path;
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } saved)
        {
            options.AdminKey = saved;
            Generated ??= false;
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(options.DataPath);
        }
        else
        {
            Directory.CreateDirectory(options.DataPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // when it creates it: 0700
        }

        options.AdminKey = "tally_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(path, file))
        {
            writer.Write(options.AdminKey);
        }

        Generated = true;
    }

    /// <summary>True when this start generated the key, false when it read one from the data folder; null when it was set.</summary>
    public bool? Generated { get; private set; }

    /// <summary>The key's file when the key is a generated one.</summary>
    public string? KeyPath { get; private set; }

    /// <summary>The first 8 hex digits of the key's SHA-256: enough to tell keys apart in a log, nothing to guess the key from.</summary>
    public static string Fingerprint(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..8];
}
