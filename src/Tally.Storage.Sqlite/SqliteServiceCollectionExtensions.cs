using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Storage;
using Tally.Storage.Sqlite;
using Tally.Webhooks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SQLite adapters (embedded mode).</summary>
public static class SqliteServiceCollectionExtensions
{
    /// <summary>
    /// Puts Tally's event log, snapshots and access store (workspaces, API keys, audit log, server secrets) and webhook store in one
    /// SQLite file, replacing any other <see cref="IEventLog"/>, <see cref="ISnapshotStore"/> and
    /// <see cref="IAccessStore"/> and <see cref="IWebhookStore"/>. Settings bind from <c>Tally:Sqlite</c>.
    /// </summary>
    public static IServiceCollection AddTallySqlite(this IServiceCollection services, Action<SqliteStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SqliteStorageOptions>().BindConfiguration("Tally:Sqlite");
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStorageOptions>, SqliteStorageOptionsValidation>());
        services.RemoveAll<IEventLog>();
        services.RemoveAll<ISnapshotStore>();
        services.RemoveAll<IAccessStore>();
        services.RemoveAll<IWebhookStore>();
        services.AddSingleton<IEventLog, SqliteEventLog>();
        services.AddSingleton<ISnapshotStore, SqliteSnapshotStore>();
        services.AddSingleton<IAccessStore, SqliteAccessStore>();
        services.AddSingleton<IWebhookStore, SqliteWebhookStore>();
        return services;
    }
}
