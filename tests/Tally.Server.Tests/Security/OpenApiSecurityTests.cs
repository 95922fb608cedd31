using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Security;

/// <summary><c>/openapi/v1.json</c> declares the security schemes and which each operation takes, with its scope.</summary>
public sealed class OpenApiSecurityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task The_document_declares_the_schemes_and_each_operations_credentials()
    {
        var document = JsonNode.Parse(await fixture.Server.Client.GetStringAsync("/openapi/v1.json"))!;
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal(["accessToken", "tallyKey", "voterCookie", "voterToken", "workspaceJwt"], schemes.Select(s => s.Key).Order());
        Assert.Equal("bearer", (string?)schemes["tallyKey"]!["scheme"]);
        Assert.Equal("JWT", (string?)schemes["workspaceJwt"]!["bearerFormat"]);
        Assert.Equal("cookie", (string?)schemes["voterCookie"]!["in"]);
        Assert.Equal("tally_voter", (string?)schemes["voterCookie"]!["name"]);

        Assert.Equal(["polls:manage"], Scopes(document, "/v1/polls", "post", "tallyKey"));
        Assert.Equal(["polls:manage"], Scopes(document, "/v1/polls", "post", "workspaceJwt"));
        Assert.Equal(["polls:read"], Scopes(document, "/v1/polls", "get", "tallyKey"));
        Assert.Equal(["polls:manage"], Scopes(document, "/v1/polls/{id}/invites", "post", "tallyKey"));
        Assert.Equal(["admin"], Scopes(document, "/v1/workspaces/{workspace}/keys", "post", "tallyKey"));
        Assert.Equal(["root"], Scopes(document, "/v1/workspaces", "post", "tallyKey"));

        var vote = Security(document, "/v1/polls/{id}/votes", "post");
        Assert.Contains(vote, r => r.Count == 0); // invite polls take the code in the body, and no credential
        Assert.Contains(vote, r => r.ContainsKey("voterToken"));
        Assert.Contains(vote, r => r.ContainsKey("voterCookie"));
        Assert.Equal(["votes:write"], Scopes(document, "/v1/polls/{id}/votes", "post", "tallyKey"));

        var watch = Security(document, "/v1/polls/{id}/events", "get");
        Assert.Contains(watch, r => r.Count == 0);
        Assert.Contains(watch, r => r.ContainsKey("accessToken"));
    }

    private static List<JsonObject> Security(JsonNode document, string path, string method) =>
        [.. document["paths"]![path]![method]!["security"]!.AsArray().Select(r => r!.AsObject())];

    private static string[] Scopes(JsonNode document, string path, string method, string scheme) =>
        [.. Security(document, path, method).Single(r => r.ContainsKey(scheme))[scheme]!.AsArray().Select(s => (string)s!)];
}
