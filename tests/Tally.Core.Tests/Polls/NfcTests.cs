using System.Text;
using Tally.Text;

namespace Tally.Core.Tests.Polls;

/// <summary>
/// Tally's own NFC (<see cref="Nfc"/>) on the cases UAX #15 singles out. The whole table was also checked
/// against ICU's NFC, code point by code point and on random sequences: scripts/unicode/NfcCheck.
/// </summary>
public sealed class NfcTests
{
    [Fact]
    public void The_bcl_does_not_normalise_in_invariant_globalization_mode()
    {
        // Why Nfc exists: with InvariantGlobalization (Directory.Build.props) the BCL's normalisation is a no-op
        // that calls every string normalized. If this starts failing, the runtime has learned NFC without ICU.
        Assert.Equal("e\u0301", "e\u0301".Normalize(NormalizationForm.FormC));
        Assert.True("e\u0301".IsNormalized(NormalizationForm.FormC));
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
        Assert.Equal(Hex(expected), Hex(Nfc.Normalize(input)));
        Assert.True(Nfc.IsNormalized(expected));
        Assert.Equal(input == expected, Nfc.IsNormalized(input));
    }

    [Fact]
    public void A_string_already_in_nfc_is_returned_as_it_is()
    {
        var s = new string(['\u00e9', 'x']);
        Assert.Same(s, Nfc.Normalize(s));
        var ascii = "ascii";
        Assert.Same(ascii, Nfc.Normalize(ascii));
    }

    [Fact]
    public void An_unpaired_surrogate_cannot_be_normalised() =>
        Assert.Throws<ArgumentException>(() => Nfc.Normalize("a\u0301\ud800"));

    private static string Hex(string s) => string.Join(' ', s.EnumerateRunes().Select(r => r.Value.ToString("X4", System.Globalization.CultureInfo.InvariantCulture)));
}
