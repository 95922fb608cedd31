namespace Tally.Access;

/// <summary>How a write to the access store went.</summary>
public enum AccessWrite
{
    Done,

    /// <summary>The workspace (or key) does not exist.</summary>
    NotFound,

    /// <summary>A workspace with this id exists already.</summary>
    IdTaken,

    /// <summary>Another workspace already trusts this JWT issuer.</summary>
    IssuerTaken,
}
