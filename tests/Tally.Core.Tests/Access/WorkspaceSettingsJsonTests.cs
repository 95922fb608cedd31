using Tally.Access;
using Tally.Testing;

namespace Tally.Core.Tests.Access;

public sealed class WorkspaceSettingsJsonTests
{
    [Fact]
    public void Settings_round_trip_exactly()
    {
        var settings = new WorkspaceSettings(new JwtSettings("https://id.example/", null, "s3cr3t+\"é\\", "https://id.example/jwks"), ["https://a", "https://a", ""], []);

        var json = WorkspaceSettingsJson.Encode(settings);

        Assert.Equal(TestAccess.Fingerprint(settings), TestAccess.Fingerprint(WorkspaceSettingsJson.Decode(json)));
        Assert.DoesNotContain("audience", json, StringComparison.Ordinal); // null members are left out
    }

    [Fact]
    public void Missing_members_read_as_none_and_unknown_ones_are_skipped()
    {
        var settings = WorkspaceSettingsJson.Decode("""{"later":{"x":[1]},"jwt":{"issuer":"iss","future":true}}""");

        Assert.Equal(TestAccess.Fingerprint(new WorkspaceSettings(new JwtSettings("iss", null, null, null), [], [])), TestAccess.Fingerprint(settings));
        Assert.Equal(TestAccess.Fingerprint(WorkspaceSettings.Empty), TestAccess.Fingerprint(WorkspaceSettingsJson.Decode("{}")));
    }
}
