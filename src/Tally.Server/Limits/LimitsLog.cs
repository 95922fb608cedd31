namespace Tally.Server.Limits;

/// <summary>Log messages of the abuse limits (EventIds 3100–3199, never reused). No voter id, key or secret.</summary>
internal static partial class LimitsLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Rate limits: votes per address {Ip}, per voter {Voter}, per API key {Key}; new voter ids per address {NewVoters}; trusted proxies {Proxies}")]
    public static partial void Limits(ILogger logger, string ip, string voter, string key, string newVoters, string proxies);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Tally:RateLimit:Votes = {Votes} per {Window} is read as the per-address bucket {Rule} (set Tally:RateLimit:Ip:Rate and :Burst instead)")]
    public static partial void LegacyVotesMapped(ILogger logger, int votes, TimeSpan window, string rule);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Rate limits are off (Tally:RateLimit:Enabled=false): votes and voter ids are not limited")]
    public static partial void RateLimitsOff(ILogger logger);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Accepting at most {Cap} connections at once ({Why})")]
    public static partial void ConnectionCap(ILogger logger, long cap, string why);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "No cap on connections ({Why}): past the open-file limit the server cannot open its files, and the runtime may end the process")]
    public static partial void NoConnectionCap(ILogger logger, string why);
}
