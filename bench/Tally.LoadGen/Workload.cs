namespace Tally.LoadGen;

/// <summary>What a loop sends and how it reads the answer. Bodies are made before the run so the load generator spends its CPU on sockets.</summary>
internal abstract class Workload
{
    /// <summary>Distinct bodies each loop cycles through (voter ids differ between them).</summary>
    protected const int BodiesPerLoop = 4;

    public abstract int VotesPerRequest { get; }

    public abstract Uri UriFor(int loop);

    public abstract byte[] BodyFor(int loop, long request);

    /// <summary>Awaited before <see cref="Next"/>: a workload whose requests must wait for something (a quiz's next question) waits here, never past <paramref name="until"/>.</summary>
    public virtual ValueTask BeforeAsync(int loop, long request, long until, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Request <paramref name="request"/> of loop <paramref name="loop"/>, or null when the loop has nothing more to send.</summary>
    public virtual VoteRequest? Next(int loop, long request) => new VoteRequest(UriFor(loop), BodyFor(loop, request), null);

    /// <summary>Reads a 2xx answer: the votes it acknowledged as counted, those it did not, and what was wrong with it, if anything.</summary>
    public abstract (long Counted, long NotCounted, string? Problem) ReadAck(int status, byte[] answer);
}

/// <summary>One request: where, what, and the <c>Authorization</c> header's value (null: none). A struct: one per request, on the loop's hot path.</summary>
internal readonly record struct VoteRequest(Uri Uri, byte[] Body, string? Authorization);
