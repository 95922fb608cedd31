namespace Tally.Server.Tests.Infrastructure;

/// <summary>One plain server shared by the tests of a class (<c>IClassFixture&lt;ServerFixture&gt;</c>).</summary>
public class ServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public virtual async Task DisposeAsync() => await Server.DisposeAsync();
}
