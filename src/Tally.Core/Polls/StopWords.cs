namespace Tally.Polls;

/// <summary>
/// The words a word cloud leaves out, per language: <c>en</c> (the default), <c>fr</c>, <c>de</c>, <c>es</c>, or <c>none</c>.
/// Short lists of the most common function words (articles, pronouns, prepositions, auxiliaries), in lower case.
/// </summary>
public static class StopWords
{
    public static readonly IReadOnlyList<string> Languages = ["en", "fr", "de", "es", "none"];

    private static readonly HashSet<string> English = Set(
        "a an and are as at be been being but by can could did do does doing don't for from had has have having he her here hers him his how i i'm if in into is it it's its just me more most my no nor not of off on once only or other our ours out over own same she should so some such than that the their theirs them then there these they this those through to too under until up very was we were what when where which while who whom why will with would you your yours yourself also about after again all am any because before below between both down during each few further");

    private static readonly HashSet<string> French = Set(
        "au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me même mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c'est est sont été être avoir ai as avons avez ont cette cet");

    private static readonly HashSet<string> German = Set(
        "aber als am an auch auf aus bei bin bis bist da dann das dass dem den der des die dir du ein eine einem einen einer es für hat hatte ich ihr im in ist ja kein mein mit nach nicht noch nur oder sein sich sie sind so über um und uns von vor war was wie wir wird zu zum zur");

    private static readonly HashSet<string> Spanish = Set(
        "al como con de del el en es esta este ha la las le lo los más me mi muy no nos o para pero por que se si sin sobre su sus te tu un una uno y ya yo él ella ellos era ser son fue hay");

    private static readonly HashSet<string> None = [];

    public static bool IsKnown(string language) => Languages.Contains(language, StringComparer.Ordinal);

    public static IReadOnlySet<string> Of(string language) => language switch
    {
        "fr" => French,
        "de" => German,
        "es" => Spanish,
        "none" => None,
        _ => English,
    };

    private static HashSet<string> Set(string words) => new(words.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
}
