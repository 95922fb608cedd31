namespace Tally.Events;

/// <summary>Why a poll closed.</summary>
public enum CloseReason
{
    /// <summary>An admin closed it.</summary>
    Admin = 0,

    /// <summary>Its <c>closesAt</c> passed.</summary>
    Expired = 1,

    /// <summary>It counted its <c>maxBallots</c>.</summary>
    Limit = 2,
}
