using System.Globalization;
using System.Text;
using Tally.Text;

// Compares Tally.Text.Nfc with ICU's NFC (string.Normalize with InvariantGlobalization off): every code point,
// the NFD of every code point that has one, and random short sequences of marks, composites, jamo and letters.
// ICU may know a newer Unicode than the tables (NfcData.UnicodeVersion): characters assigned since differ only
// when they are marks, which the random sequences draw from the tables' own marks, so they do not show here.
var mismatches = 0;
var checkedCount = 0;
var marks = new List<int>();
var decomposable = new List<int>();
for (var cp = 0; cp <= 0x10FFFF; cp++)
{
    if (cp is >= 0xD800 and <= 0xDFFF)
    {
        continue;
    }

    var s = char.ConvertFromUtf32(cp);
    Check(s);
    if (TryIcu(s, NormalizationForm.FormD, out var nfd) && nfd != s)
    {
        Check(nfd);
        decomposable.Add(cp);
    }

    if (Nfc.CombiningClass(cp) != 0)
    {
        marks.Add(cp);
    }
}

var pool = new List<int>(marks.Concat(decomposable).Concat(Enumerable.Range(0x41, 26)).Concat(Enumerable.Range(0x1100, 0x100)));
var random = new Random(1234);
for (var i = 0; i < 2_000_000; i++)
{
    var sb = new StringBuilder();
    for (var k = random.Next(1, 6); k > 0; k--)
    {
        sb.Append(char.ConvertFromUtf32(pool[random.Next(pool.Count)]));
    }

    Check(sb.ToString());
}

Console.WriteLine($"Unicode {Nfc.UnicodeVersion} tables: {checkedCount} strings checked against ICU, {mismatches} differ ({marks.Count} marks, {decomposable.Count} decomposable code points).");
return mismatches == 0 ? 0 : 1;

void Check(string s)
{
    if (!TryIcu(s, NormalizationForm.FormC, out var icu))
    {
        return; // ICU refuses noncharacters
    }

    checkedCount++;
    var ours = Nfc.Normalize(s);
    if (ours != icu || Nfc.IsNormalized(s) != (icu == s))
    {
        if (mismatches++ < 40)
        {
            Console.WriteLine($"[{Hex(s)}]: ICU [{Hex(icu)}], Tally [{Hex(ours)}]");
        }
    }
}

static bool TryIcu(string s, NormalizationForm form, out string normalized)
{
    try
    {
        normalized = s.Normalize(form);
        return true;
    }
    catch (ArgumentException)
    {
        normalized = s;
        return false;
    }
}

static string Hex(string s) => string.Join(' ', s.EnumerateRunes().Select(r => r.Value.ToString("X4", CultureInfo.InvariantCulture)));
