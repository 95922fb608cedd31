using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Tally.Server.Webhooks;

/// <summary>
/// Sends one webhook attempt. Each connection resolves the host itself and connects only to addresses
/// <see cref="WebhookAddresses"/> allows (so a DNS name that resolves, or later rebinds, to a private address is
/// refused at connect time, not only when the endpoint was made); no proxy, no redirects, no cookies.
/// </summary>
internal sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;

    public WebhookSender(IOptions<WebhookOptions> options)
    {
        var settings = options.Value;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = settings.Timeout,
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, settings.AllowPrivateNetworks, cancellationToken),
        };
        _client = new HttpClient(handler) { Timeout = settings.Timeout };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("Tally-Webhooks/1");
    }

    /// <summary>The receiver's status (0 with <c>Error</c> when there was no answer) and how long it took.</summary>
    public async Task<(int Status, string? Error, int DurationMs)> SendAsync(
        string url, string messageId, long timestamp, string signature, byte[] body, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", signature);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return (status, status is >= 200 and < 300 ? null : "answered " + status, Elapsed(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (0, "timed out", Elapsed(started));
        }
        catch (HttpRequestException ex)
        {
            return (0, Describe(ex), Elapsed(started));
        }
    }

    public void Dispose() => _client.Dispose();

    private static int Elapsed(long started) => (int)Math.Min(int.MaxValue, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowPrivate, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        var allowed = allowPrivate ? addresses : [.. addresses.Where(WebhookAddresses.IsPublic)];
        if (allowed.Length == 0)
        {
            throw new WebhookAddressRefusedException(addresses.Length == 0 ? "the host has no address" : "the host resolves only to private or special-purpose addresses");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static string Describe(HttpRequestException ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is WebhookAddressRefusedException refused)
            {
                return "refused: " + refused.Message;
            }

            if (e is SocketException socket)
            {
                return "connection failed: " + socket.SocketErrorCode;
            }
        }

        return ex.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "the host name does not resolve",
            HttpRequestError.SecureConnectionError => "TLS failed",
            HttpRequestError.ConnectionError => "connection failed",
            HttpRequestError.ResponseEnded => "the connection closed before an answer",
            _ => "request failed: " + ex.HttpRequestError,
        };
    }
}

/// <summary>A webhook's host has no address delivery may connect to.</summary>
internal sealed class WebhookAddressRefusedException(string message) : Exception(message);
