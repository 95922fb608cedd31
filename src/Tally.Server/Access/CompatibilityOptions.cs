namespace Tally.Server.Access;

/// <summary>Settings that bring back behaviour this version made safer (section <c>Tally:Compatibility</c>).</summary>
public sealed class CompatibilityOptions
{
    /// <summary>
    /// True brings back how votes were identified before voter identities: polls created without a
    /// <c>voterIdentity</c> are <c>client</c> polls, and a <c>client</c> poll trusts the body's <c>voterId</c> from any
    /// caller, so anyone can vote as anyone. Default false: new polls are <c>anonymous</c>, and <c>client</c> polls
    /// trust <c>voterId</c> only from a caller with <c>votes:write</c>.
    /// </summary>
    public bool ClientVoterIds { get; set; }
}
