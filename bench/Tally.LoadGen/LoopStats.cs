using HdrHistogram;

namespace Tally.LoadGen;

/// <summary>What one request loop saw. A loop is a sequential async chain, so its stats need no locks.</summary>
internal sealed class LoopStats
{
    /// <summary>Highest latency the histogram tracks: one minute, in microseconds (a request's timeout is shorter).</summary>
    public const long MaxMicroseconds = 60_000_000;

    /// <summary>Latency of acknowledged requests that completed inside the measured window, in microseconds.</summary>
    public LongHistogram Latency { get; } = new(1, MaxMicroseconds, 3);

    /// <summary>Requests sent, warm-up included.</summary>
    public long Sent { get; set; }

    /// <summary>Acknowledged requests (2xx) that completed inside the window.</summary>
    public long WindowRequests { get; set; }

    /// <summary>Votes acknowledged as counted by requests that completed inside the window.</summary>
    public long WindowVotes { get; set; }

    /// <summary>Votes acknowledged as counted over the whole run (warm-up and stragglers included): what the server must hold.</summary>
    public long AckedVotes { get; set; }

    /// <summary>Votes inside a 2xx batch answer whose status was not <c>counted</c>.</summary>
    public long RejectedVotes { get; set; }

    /// <summary>503 answers (ingest queue full): nothing of the request was counted.</summary>
    public long Overloaded { get; set; }

    /// <summary>Other non-2xx answers.</summary>
    public long Errors { get; set; }

    /// <summary>Requests that got no answer (transport error, timeout): the server may or may not have counted them.</summary>
    public long Indeterminate { get; set; }

    /// <summary>The first unexpected answer or exception, to print.</summary>
    public string? FirstProblem { get; set; }

    public void Merge(LoopStats other)
    {
        Latency.Add(other.Latency);
        Sent += other.Sent;
        WindowRequests += other.WindowRequests;
        WindowVotes += other.WindowVotes;
        AckedVotes += other.AckedVotes;
        RejectedVotes += other.RejectedVotes;
        Overloaded += other.Overloaded;
        Errors += other.Errors;
        Indeterminate += other.Indeterminate;
        FirstProblem ??= other.FirstProblem;
    }
}
