using System.Text;
using Tally.Polls;

namespace Tally.Core.Tests.Polls;

/// <summary>
/// voterIds are normalised with the runtime's NFC (ICU's): these pin that it is on (not invariant globalization's
/// no-op) on the cases UAX #15 singles out.
/// </summary>
public sealed class NfcTests
{
    [Fact]
    public void The_runtime_normalises_so_engines_may_start()
    {
        Assert.Equal("\u00e9", "e\u0301".Normalize(NormalizationForm.FormC));
        Assert.False("e\u0301".IsNormalized(NormalizationForm.FormC));
        PollRules.EnsureNormalization();
    }
    [Theory]
    [InlineData("e\u0301", "\u00e9")] // composes
    [InlineData("\u00e9", "\u00e9")] // already NFC
    [InlineData("A\u030a", "\u00c5")]
    [InlineData("\u212b", "\u00c5")] // ANGSTROM SIGN: a singleton, decomposes to Å
    [InlineData("\u2126", "\u03a9")] // OHM SIGN → GREEK CAPITAL OMEGA
    [InlineData("s\u0323\u0307", "\u1e69")] // two marks, composed step by step
    [InlineData("s\u0307\u0323", "\u1e69")] // the same after canonical ordering (dot below, ccc 220, before dot above, 230)
    [InlineData("e\u0323\u0302", "\u1ec7")] // Vietnamese ệ
    [InlineData("a\u0308\u0308", "\u00e4\u0308")] // the second diaeresis has no composite with ä
    [InlineData("a\u05b0\u0308", "\u00e4\u05b0")] // a mark of another class does not block
    [InlineData("\u0958", "\u0915\u093c")] // excluded from composition: stays decomposed
    [InlineData("\u1100\u1161", "\uac00")] // Hangul L + V → LV
    [InlineData("\u1100\u1161\u11a8", "\uac01")] // L + V + T → LVT
    [InlineData("\uac00\u11a8", "\uac01")] // LV + T → LVT
    [InlineData("\u0301e", "\u0301e")] // a leading mark stays
    [InlineData("\U0001D15E", "\U0001D157\U0001D165")] // MUSICAL SYMBOL HALF NOTE: excluded, stays decomposed
    [InlineData("\U00011099\U000110BA", "\U0001109A")] // KAITHI: composition beyond the BMP
    [InlineData("plain ascii", "plain ascii")]
    public void Normalize_gives_nfc(string input, string expected)
    {
        Assert.Equal(Hex(expected), Hex(input.Normalize(NormalizationForm.FormC)));
        Assert.True(expected.IsNormalized(NormalizationForm.FormC));
        Assert.Equal(input == expected, input.IsNormalized(NormalizationForm.FormC));
    }

    private static string Hex(string s) => string.Join(' ', s.EnumerateRunes().Select(r => r.Value.ToString("X4", System.Globalization.CultureInfo.InvariantCulture)));
}
