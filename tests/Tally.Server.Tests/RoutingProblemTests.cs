using System.Net;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

/// <summary>Errors the framework raises (no such route, wrong method) have Tally's problem shape too.</summary>
public sealed class RoutingProblemTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly TestServer _server = fixture.Server;

    [Fact]
    public async Task An_unknown_route_is_a_not_found_problem()
    {
        using var response = await _server.Client.GetAsync("/v1/nothing-here");
        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Contains("/v1/nothing-here", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_method_is_a_method_not_allowed_problem()
    {
        using var response = await _server.Client.DeleteAsync("/v1/polls/abc/votes");
        await ApiClient.AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
    }
}
