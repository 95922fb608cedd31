using Tally.Polls;

namespace Tally.Core.Tests.Polls;

/// <summary>How a text answer becomes the terms of a word cloud: case, punctuation, Unicode forms, stop words, block lists.</summary>
public sealed class TextTermsTests
{
    [Theory]
    [InlineData("Pizza!", "pizza")]
    [InlineData("PIZZA, pizza; Pizza...", "pizza")] // case-blind, once per answer
    [InlineData("I love the pizza and the pasta", "love pizza pasta")] // English stop words out
    [InlineData("Don't stop — it's great", "stop great")] // an apostrophe between letters stays in the word ("don't", "it's" are stop words)
    [InlineData("rock’n’roll", "rock'n'roll")] // a typographic apostrophe reads as '
    [InlineData("ﬁne ＦＯＯＤ", "fine food")] // NFKC: the ligature and the full-width letters
    [InlineData("cafe\u0301 café", "café")] // composed and decomposed spellings are one term
    [InlineData("a b c x 42 2026", "42 2026")] // one-character words out; numbers stay
    [InlineData("🍕🍕 pizza", "pizza")] // symbols are not words
    [InlineData("", "")]
    public void An_answer_counts_for_its_normalised_words_without_stop_words(string text, string terms) =>
        Assert.Equal(terms.Split(' ', StringSplitOptions.RemoveEmptyEntries), TextTerms.Of(text, "en"));

    [Fact]
    public void Each_language_has_its_stop_words_and_none_keeps_them_all()
    {
        Assert.Equal(["chat", "noir"], TextTerms.Of("Le chat est noir", "fr"));
        Assert.Equal(["hund", "schläft"], TextTerms.Of("Der Hund schläft", "de"));
        Assert.Equal(["perro", "duerme"], TextTerms.Of("El perro duerme", "es"));
        Assert.Equal(["the", "cat"], TextTerms.Of("The cat", "none"));
    }

    [Fact]
    public void Blocked_terms_never_count_and_an_answer_has_at_most_twenty_terms()
    {
        Assert.Equal(["great"], TextTerms.Of("Great darn talk", "en", ["darn", "talk"]));
        Assert.Equal("darn", TextTerms.NormalizeBlocked(" DARN "));
        Assert.Null(TextTerms.NormalizeBlocked("two words"));
        var many = string.Join(' ', Enumerable.Range(0, 50).Select(i => "word" + i));
        Assert.Equal(TextTerms.MaxTermsPerAnswer, TextTerms.Of(many, "en").Length);
        Assert.Empty(TextTerms.Of(new string('x', 41), "en")); // longer than a term may be
    }
}
