using Microsoft.OpenApi;

namespace Tally.Server.Http;

/// <summary>
/// Documents an endpoint's JSON request body in OpenAPI without <c>IAcceptsMetadata</c>: that metadata
/// (what <c>.Accepts&lt;T&gt;()</c> adds) makes routing answer a wrong Content-Type itself, with a bare 415
/// and before the endpoint runs, so <see cref="JsonBody"/> could not give its precise problem.
/// </summary>
internal static class JsonRequestBodyDocs
{
    public static RouteHandlerBuilder DocumentJsonBody<T>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/json"] = new() { Schema = schema } },
            };
        });
}
