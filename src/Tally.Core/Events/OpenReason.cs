namespace Tally.Events;

/// <summary>Why a poll opened.</summary>
public enum OpenReason
{
    /// <summary>A manager opened it.</summary>
    Admin = 0,

    /// <summary>Its <c>opensAt</c> came.</summary>
    Scheduled = 1,
}
