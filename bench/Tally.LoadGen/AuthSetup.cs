using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tally.LoadGen;

/// <summary>
/// What one <c>ingest-auth</c> run votes with, made before its window: a workspace of its own (with an HS256 secret,
/// or a JWKS URL this process serves, for the token modes), its polls, and one credential per voter:
/// <list type="bullet">
/// <item><c>none</c>: no credential; the body's <c>voterId</c> (contract v1, the server's compatibility setting);</item>
/// <item><c>key</c>: an API key with <c>votes:write</c> (a backend relaying its users' votes), the body's <c>voterId</c>;</item>
/// <item><c>hs256</c>, <c>rs256</c>, <c>es256</c>: a voter token per voter, signed as a host app would, its <c>sub</c> the voter;</item>
/// <item><c>anon</c>: an anonymous voter token per voter, asked of <c>POST /v1/voters</c>.</item>
/// </list>
/// </summary>
internal sealed class AuthSetup : IDisposable
{
    public static readonly string[] Modes = ["none", "key", "hs256", "rs256", "es256", "anon"];

    private const string Audience = "tally";
    private const string KeyId = "bench-1";

    private readonly HttpListener? _jwksHost;

    private AuthSetup(HttpListener? jwksHost, string workspace, IReadOnlyList<string> polls, string?[] credentials, bool bodyVoterId)
    {
        _jwksHost = jwksHost;
        Workspace = workspace;
        Polls = polls;
        Credentials = credentials;
        BodyVoterId = bodyVoterId;
    }

    public string Workspace { get; }

    public IReadOnlyList<string> Polls { get; }

    /// <summary>The <c>Authorization: Bearer</c> value of each voter (null: none).</summary>
    public string?[] Credentials { get; }

    /// <summary>Whether the body names the voter (<c>none</c>, <c>key</c>) or the credential does.</summary>
    public bool BodyVoterId { get; }

    public static async Task<AuthSetup> CreateAsync(HttpClient client, Uri baseUrl, string adminKey, string mode, int polls, int voters, CancellationToken cancellationToken)
    {
        var workspace = $"bench-{mode}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}";
        var issuer = $"https://{workspace}.bench.invalid";
        HttpListener? jwksHost = null;
        string? jwt = null;
        SigningCredentials? signing = null;
        switch (mode)
        {
            case "hs256":
                var secret = RandomNumberGenerator.GetHexString(64);
                jwt = $$"""{"issuer":"{{issuer}}","hmacSecret":"{{secret}}"}""";
                signing = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256);
                break;
            case "rs256" or "es256":
                SecurityKey key;
                string jwk;
                if (mode == "rs256")
                {
                    var rsa = RSA.Create(2048);
                    var p = rsa.ExportParameters(false);
                    key = new RsaSecurityKey(rsa) { KeyId = KeyId };
                    jwk = $$"""{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{KeyId}}","n":"{{Base64UrlEncoder.Encode(p.Modulus)}}","e":"{{Base64UrlEncoder.Encode(p.Exponent)}}"}""";
                }
                else
                {
                    var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                    var p = ec.ExportParameters(false);
                    key = new ECDsaSecurityKey(ec) { KeyId = KeyId };
                    jwk = $$"""{"kty":"EC","use":"sig","alg":"ES256","kid":"{{KeyId}}","crv":"P-256","x":"{{Base64UrlEncoder.Encode(p.Q.X)}}","y":"{{Base64UrlEncoder.Encode(p.Q.Y)}}"}""";
                }

                (jwksHost, var jwksUrl) = ServeJwks($$"""{"keys":[{{jwk}}]}""");
                jwt = $$"""{"issuer":"{{issuer}}","jwksUrl":"{{jwksUrl}}"}""";
                signing = new SigningCredentials(key, mode == "rs256" ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256);
                break;
        }

        var api = new Admin(client, baseUrl, adminKey);
        await api.SendAsync(HttpMethod.Post, "/v1/workspaces", null,
            $$"""{"id":"{{workspace}}","name":"bench {{mode}}"{{(jwt is null ? "" : $$""","settings":{"jwt":{{jwt}}}""")}}}""", cancellationToken);

        var identity = mode switch
        {
            "none" or "key" => "client",
            "anon" => "anonymous",
            _ => "token",
        };
        var pollIds = new List<string>();
        for (var i = 0; i < polls; i++)
        {
            using var created = await api.SendAsync(HttpMethod.Post, "/v1/polls", workspace,
                $$"""{"question":"bench auth {{mode}} #{{i}}","options":["A","B","C"],"dedupe":"voter","voterIdentity":"{{identity}}"}""", cancellationToken);
            pollIds.Add(created.RootElement.GetProperty("id").GetString()!);
        }

        var credentials = new string?[voters];
        switch (mode)
        {
            case "key":
                using (var made = await api.SendAsync(HttpMethod.Post, $"/v1/workspaces/{workspace}/keys", null, """{"name":"bench relay","scopes":["votes:write"]}""", cancellationToken))
                {
                    Array.Fill(credentials, made.RootElement.GetProperty("key").GetString());
                }

                break;
            case "hs256" or "rs256" or "es256":
                var handler = new JsonWebTokenHandler();
                var now = DateTime.UtcNow;
                for (var v = 0; v < voters; v++)
                {
                    credentials[v] = handler.CreateToken(new SecurityTokenDescriptor
                    {
                        Issuer = issuer,
                        Audience = Audience,
                        Subject = new ClaimsIdentity([new Claim("sub", VoterId(v))]),
                        IssuedAt = now,
                        NotBefore = now,
                        Expires = now.AddHours(1),
                        SigningCredentials = signing,
                    });
                }

                break;
            case "anon":
                for (var v = 0; v < voters; v++)
                {
                    using var voter = await api.SendAsync(HttpMethod.Post, "/v1/voters", null, null, cancellationToken, authorize: false);
                    credentials[v] = voter.RootElement.GetProperty("voterToken").GetString();
                }

                break;
        }

        return new AuthSetup(jwksHost, workspace, pollIds, credentials, identity == "client");
    }

    /// <summary>The voter id of voter <paramref name="v"/> (the body's, or the token's sub).</summary>
    public static string VoterId(int v) => "v" + v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => _jwksHost?.Close();

    /// <summary>Serves <paramref name="jwks"/> at <c>http://127.0.0.1:PORT/jwks.json</c> (the server fetches it once and caches it).</summary>
    private static (HttpListener Listener, string Url) ServeJwks(string jwks)
    {
        var body = Encoding.UTF8.GetBytes(jwks);
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20_000, 30_000);
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
                continue;
            }

            _ = Task.Run(async () =>
            {
                while (listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await listener.GetContextAsync();
                    }
                    catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }

                    context.Response.ContentType = "application/json";
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
            });
            return (listener, $"http://127.0.0.1:{port}/jwks.json");
        }
    }

    /// <summary>Management calls with the root key (its <c>Tally-Workspace</c> header picks the workspace).</summary>
    private sealed class Admin(HttpClient client, Uri baseUrl, string adminKey)
    {
        public async Task<JsonDocument> SendAsync(HttpMethod method, string path, string? workspace, string? body, CancellationToken cancellationToken, bool authorize = true)
        {
            using var request = new HttpRequestMessage(method, new Uri(baseUrl, path));
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            if (authorize)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            }

            if (workspace is not null)
            {
                request.Headers.Add("Tally-Workspace", workspace);
            }

            using var response = await client.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {text}");
            }

            return JsonDocument.Parse(text);
        }
    }
}
