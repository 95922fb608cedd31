namespace Tally.Server.Http;

/// <summary>Adds <c>Retry-After</c> to every 503 and 429, whichever endpoint produced it.</summary>
internal sealed class RetryAfterMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var response = (HttpResponse)state;
            if (response.StatusCode is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests
                && !response.Headers.ContainsKey("Retry-After"))
            {
                response.Headers.RetryAfter = "1";
            }

            return Task.CompletedTask;
        }, context.Response);
        return next(context);
    }
}
