using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Tally.Server.Hosting;

namespace Tally.Server.Http;

/// <summary>Lets a request through only with <c>Authorization: Bearer &lt;admin key&gt;</c>, compared in constant time.</summary>
internal sealed class AdminKeyFilter : IEndpointFilter
{
    private readonly byte[] _keyHash;

    public AdminKeyFilter(IOptions<TallyServerOptions> options) =>
        _keyHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.AdminKey ?? throw new InvalidOperationException("The admin key is not set.")));

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Deny(context, header.Length == 0 ? "Send Authorization: Bearer <admin key>." : "The Authorization header must use the Bearer scheme.");
        }

        // Hashing first makes the comparison's time independent of the key's length as well as its content.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header.AsSpan(7).Trim().ToString()));
        return CryptographicOperations.FixedTimeEquals(given, _keyHash)
            ? next(context)
            : Deny(context, "The admin key is not valid.");
    }

    private static ValueTask<object?> Deny(EndpointFilterInvocationContext context, string detail)
    {
        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return ValueTask.FromResult<object?>(Problems.Unauthorized(detail));
    }
}
