using System.Buffers;
using System.Text;

namespace Tally.Text;

/// <summary>
/// Unicode Normalization Form C (UAX #15: canonical decomposition, canonical ordering, canonical
/// composition), on the tables of <see cref="NfcData"/>.
/// </summary>
/// <remarks>
/// Tally runs with <c>InvariantGlobalization</c>, where <see cref="string.Normalize()"/> and
/// <see cref="string.IsNormalized()"/> do nothing: they return the string unchanged and call any string
/// normalized (checked on .NET 10 by <c>NfcTests</c>). This normaliser needs no ICU, and it pins one
/// Unicode version (<see cref="NfcData.UnicodeVersion"/>) for every node, so a voter's identity does not
/// depend on the host's ICU. Code points the tables do not know (unassigned in that version) are left as
/// they are, with combining class 0.
/// </remarks>
internal static class Nfc
{
    private const int HangulBase = 0xAC00;
    private const int HangulLBase = 0x1100;
    private const int HangulVBase = 0x1161;
    private const int HangulTBase = 0x11A7;
    private const int HangulLCount = 19;
    private const int HangulVCount = 21;
    private const int HangulTCount = 28;
    private const int HangulNCount = HangulVCount * HangulTCount;
    private const int HangulSCount = HangulLCount * HangulNCount;

    /// <summary>The Unicode version of the tables.</summary>
    public static string UnicodeVersion => NfcData.UnicodeVersion;

    /// <summary>
    /// <paramref name="value"/> in NFC; the same instance when it already is (always when every character
    /// is below U+0300, where nothing decomposes or combines).
    /// </summary>
    /// <exception cref="ArgumentException">The string has an unpaired surrogate.</exception>
    public static string Normalize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (IsBelowCombiningMarks(value))
        {
            return value;
        }

        var buffer = new List<int>(value.Length + 8);
        foreach (var rune in Enumerate(value))
        {
            Decompose(rune, buffer);
        }

        Reorder(buffer);
        Compose(buffer);

        var sb = new StringBuilder(value.Length);
        foreach (var cp in buffer)
        {
            sb.Append(new Rune(cp));
        }

        var normalized = sb.ToString();
        return string.Equals(normalized, value, StringComparison.Ordinal) ? value : normalized;
    }

    /// <summary>Whether <paramref name="value"/> is in NFC.</summary>
    public static bool IsNormalized(string value) => ReferenceEquals(Normalize(value), value);

    /// <summary>The canonical combining class of <paramref name="cp"/> (0 for starters and for what the tables do not know).</summary>
    public static int CombiningClass(int cp)
    {
        if (cp < 0x300)
        {
            return 0;
        }

        var table = NfcData.CombiningClasses;
        int lo = 0, hi = (table.Length / 3) - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (cp < table[mid * 3])
            {
                hi = mid - 1;
            }
            else if (cp > table[(mid * 3) + 1])
            {
                lo = mid + 1;
            }
            else
            {
                return table[(mid * 3) + 2];
            }
        }

        return 0;
    }

    private static bool IsBelowCombiningMarks(string value)
    {
        foreach (var c in value)
        {
            if (c >= '\u0300')
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<int> Enumerate(string value)
    {
        for (var i = 0; i < value.Length;)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var used) != OperationStatus.Done)
            {
                throw new ArgumentException($"The string has an unpaired surrogate at index {i}.", nameof(value));
            }

            yield return rune.Value;
            i += used;
        }
    }

    /// <summary>Appends the full canonical decomposition of <paramref name="cp"/>.</summary>
    private static void Decompose(int cp, List<int> buffer)
    {
        var s = cp - HangulBase;
        if (s is >= 0 and < HangulSCount)
        {
            buffer.Add(HangulLBase + (s / HangulNCount));
            buffer.Add(HangulVBase + (s % HangulNCount / HangulTCount));
            if (s % HangulTCount is var t and not 0)
            {
                buffer.Add(HangulTBase + t);
            }

            return;
        }

        var at = cp < 0xC0 ? -1 : FindDecomposition(cp);
        if (at < 0)
        {
            buffer.Add(cp);
            return;
        }

        var table = NfcData.Decompositions;
        Decompose(table[at + 1], buffer);
        if (table[at + 2] != 0)
        {
            Decompose(table[at + 2], buffer);
        }
    }

    private static int FindDecomposition(int cp)
    {
        var table = NfcData.Decompositions;
        int lo = 0, hi = (table.Length / 3) - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var key = table[mid * 3];
            if (key == cp)
            {
                return mid * 3;
            }

            if (key < cp)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }

    /// <summary>Canonical ordering: each run of non-starters sorted by combining class, stably.</summary>
    private static void Reorder(List<int> buffer)
    {
        for (var i = 1; i < buffer.Count; i++)
        {
            var cp = buffer[i];
            var ccc = CombiningClass(cp);
            if (ccc == 0)
            {
                continue;
            }

            var j = i;
            while (j > 0 && CombiningClass(buffer[j - 1]) > ccc)
            {
                buffer[j] = buffer[j - 1];
                j--;
            }

            buffer[j] = cp;
        }
    }

    /// <summary>Canonical composition: each character that is not blocked from the last starter and combines with it is merged into it.</summary>
    private static void Compose(List<int> buffer)
    {
        if (buffer.Count < 2)
        {
            return;
        }

        var starter = 0;
        var lastClass = CombiningClass(buffer[0]) == 0 ? 0 : 256; // a leading non-starter has no starter to combine with
        var kept = 1;
        for (var i = 1; i < buffer.Count; i++)
        {
            var cp = buffer[i];
            var ccc = CombiningClass(cp);
            if ((lastClass < ccc || lastClass == 0) && lastClass != 256 && Composite(buffer[starter], cp) is { } composite)
            {
                buffer[starter] = composite;
                continue;
            }

            if (ccc == 0)
            {
                starter = kept;
            }

            lastClass = ccc;
            buffer[kept++] = cp;
        }

        buffer.RemoveRange(kept, buffer.Count - kept);
    }

    private static int? Composite(int first, int second)
    {
        var l = first - HangulLBase;
        var v = second - HangulVBase;
        if (l is >= 0 and < HangulLCount && v is >= 0 and < HangulVCount)
        {
            return HangulBase + (((l * HangulVCount) + v) * HangulTCount);
        }

        var s = first - HangulBase;
        var t = second - HangulTBase;
        if (s is >= 0 and < HangulSCount && s % HangulTCount == 0 && t is > 0 and < HangulTCount)
        {
            return first + t;
        }

        var table = NfcData.Compositions;
        int lo = 0, hi = (table.Length / 3) - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var order = table[mid * 3] != first ? table[mid * 3].CompareTo(first) : table[(mid * 3) + 1].CompareTo(second);
            if (order == 0)
            {
                return table[(mid * 3) + 2];
            }

            if (order < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return null;
    }
}
