using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tally.Storage;
using Tally.Webhooks;

namespace Tally.Server.Webhooks;

/// <summary>Registers webhook delivery: the options, the sender, the dispatcher (after the engine: it reads polls).</summary>
internal static class WebhookSetup
{
    public static void AddTallyWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration("Tally:Webhooks").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidation>());

        // Embedded mode's SQLite and cluster mode's PostgreSQL register their stores (and cluster mode its feed); these are for hosts without either.
        services.TryAddSingleton<IWebhookStore, InMemoryWebhookStore>();
        services.TryAddSingleton<IWebhookFeed>(sp => new EventLogWebhookFeed(sp.GetRequiredService<IEventLog>()));
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
    }
}
