using System.Globalization;
using System.Text;

namespace Tally.Polls;

/// <summary>
/// The terms a text answer counts for in its poll's word cloud: the text in Unicode NFKC and lower case (invariant), cut into
/// words (letters and digits; an apostrophe between letters stays inside a word, so "don't" is one word), without words
/// under <see cref="MinTermLength"/> characters or over <see cref="MaxTermLength"/>, without the stop words of the poll's
/// language (<see cref="StopWords"/>), and without the workspace's blocked terms; each term once per answer, at most
/// <see cref="MaxTermsPerAnswer"/>. Pure: the same text, language and block list give the same terms.
/// </summary>
public static class TextTerms
{
    public const int MinTermLength = 2;
    public const int MaxTermLength = 40;
    public const int MaxTermsPerAnswer = 20;

    public static string[] Of(string text, string language, IReadOnlyCollection<string>? blocked = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stop = StopWords.Of(language);
        var runes = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant().EnumerateRunes().ToArray();
        var terms = new List<string>();
        var word = new StringBuilder();
        for (var i = 0; i <= runes.Length && terms.Count < MaxTermsPerAnswer; i++)
        {
            var rune = i < runes.Length ? runes[i] : new Rune(' ');
            var apostrophe = rune.Value is '\'' or '\u2019' && word.Length > 0 && i + 1 < runes.Length && Rune.IsLetter(runes[i + 1]);
            if (Rune.IsLetterOrDigit(rune) || (IsMark(rune) && word.Length > 0) || apostrophe)
            {
                word.Append(apostrophe ? "'" : rune.ToString());
                continue;
            }

            if (word.Length > 0)
            {
                var term = word.ToString();
                word.Clear();
                if (term.Length is >= MinTermLength and <= MaxTermLength && !stop.Contains(term) && !terms.Contains(term)
                    && (blocked is null || !blocked.Contains(term)))
                {
                    terms.Add(term);
                }
            }
        }

        return [.. terms];
    }

    /// <summary>A blocked term as the workspace sets it, normalised the way answers are (null when it is no single term).</summary>
    public static string? NormalizeBlocked(string term)
    {
        ArgumentNullException.ThrowIfNull(term);
        var terms = Of(term, "none");
        return terms.Length == 1 ? terms[0] : null;
    }

    private static bool IsMark(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
}
