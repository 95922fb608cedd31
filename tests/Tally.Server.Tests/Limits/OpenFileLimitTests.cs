using Tally.Server.Limits;

namespace Tally.Server.Tests.Limits;

/// <summary>The open-file limit as /proc/self/limits gives it, and the connection cap the server derives from it.</summary>
public sealed class OpenFileLimitTests
{
    private const string Limits = """
        Limit                     Soft Limit           Hard Limit           Units
        Max cpu time              unlimited            unlimited            seconds
        Max processes             unlimited            unlimited            processes
        Max open files            20000                65536                files
        Max locked memory         8388608              8388608              bytes
        """;

    [Fact]
    public void The_soft_limit_is_read_from_the_limits_text()
    {
        Assert.Equal(20_000, OpenFileLimit.Parse(Limits));
        Assert.Null(OpenFileLimit.Parse(Limits.Replace("20000 ", "unlimited ", StringComparison.Ordinal)));
        Assert.Null(OpenFileLimit.Parse("Max cpu time unlimited unlimited seconds"));
        Assert.Null(OpenFileLimit.Parse(string.Empty));
    }

    [Fact]
    public void On_linux_this_process_has_a_limit()
    {
        if (OperatingSystem.IsLinux())
        {
            Assert.True(OpenFileLimit.Current() > 0);
        }
    }

    [Theory]
    [InlineData(1024, 256, 768)] // a shell's default: a quarter kept
    [InlineData(20_000, 2_000, 18_000)] // a tenth
    [InlineData(1_048_576, 2_048, 1_046_528)] // at most 2,048 kept
    [InlineData(100, 256, 1)] // absurdly low: still one connection
    public void The_cap_keeps_a_reserve_for_the_servers_own_files(long limit, long reserve, long cap)
    {
        Assert.Equal(reserve, OpenFileLimit.Reserve(limit));
        Assert.Equal(cap, OpenFileLimit.ConnectionCap(limit));
    }

    [Fact]
    public void A_set_cap_wins_zero_turns_it_off_and_unset_follows_the_limit()
    {
        Assert.Equal(500, ConnectionLimits.ResolveCap(new ConnectionLimitOptions { MaxConnections = 500 }, 20_000).Cap);
        Assert.Null(ConnectionLimits.ResolveCap(new ConnectionLimitOptions { MaxConnections = 0 }, 20_000).Cap);
        Assert.Equal(18_000, ConnectionLimits.ResolveCap(new ConnectionLimitOptions(), 20_000).Cap);
        var (cap, why) = ConnectionLimits.ResolveCap(new ConnectionLimitOptions(), null);
        Assert.Null(cap);
        Assert.Contains("could not be read", why, StringComparison.Ordinal);
    }
}
