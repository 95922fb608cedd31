using Microsoft.AspNetCore.Mvc;
using Tally.Access;
using Tally.Engine;
using Tally.Events;
using Tally.Server.Access;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary>
/// <c>GET /v1/polls/{id}/export</c>: the poll's ballots as NDJSON or CSV, streamed from the durable log as it is read
/// (a row is written per event and the response flushed every <see cref="FlushEvery"/> rows, so memory stays bounded
/// whatever the number of ballots), through the seq the results had when the export began.
/// </summary>
internal static class ExportEndpoints
{
    private const int FlushEvery = 512;

    public static void MapExportEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/polls/{id}/export", ExportAsync).WithTags("Polls").RequireScope(Scopes.PollsManage)
            .Produces(StatusCodes.Status200OK, contentType: "application/x-ndjson")
            .Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Export a poll's ballots and results (polls:manage): format ndjson (default) or csv; voters hashed (default), raw or omitted");
    }

    private static async Task<IResult> ExportAsync(
        string id, HttpContext context, ITallyEngine engine, ServerKeys keys, AuditTrail audit, [FromQuery] string? format, [FromQuery] string? voters)
    {
        if (format is not (null or "ndjson" or "csv"))
        {
            return Problems.InvalidQuery("format is \"ndjson\" (the default) or \"csv\".");
        }

        if (voters is not (null or "hashed" or "raw" or "omitted"))
        {
            return Problems.InvalidQuery("voters is \"hashed\" (the default), \"raw\" or \"omitted\".");
        }

        var managed = await VoterEndpoints.ManagedPollAsync(context, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(context.Response, managed.Rejection!);
        }

        var results = await engine.GetResultsAsync(poll.Id, context.RequestAborted);
        if (results.Value is not { } at)
        {
            return PollEndpoints.Refused(poll.Id, results.Rejection!);
        }

        var csv = format == "csv";
        var shown = voters switch
        {
            "raw" => VoterShown.Raw,
            "omitted" => VoterShown.Omitted,
            _ => VoterShown.Hashed,
        };
        await audit.RecordAsync(ManagementFilter.CallerOf(context), poll.Workspace, "poll.exported", poll.Id, $"{(csv ? "csv" : "ndjson")}, voters {Name(shown)}, through seq {at.Seq}");

        // A first pass finds the erased ballots, whose voter no row may show (their events stay in the log).
        var erased = new HashSet<long>();
        if (shown != VoterShown.Omitted)
        {
            await foreach (var e in engine.ReadPollEventsAsync(poll.Id, at.Seq, context.RequestAborted))
            {
                if (e is BallotErased gone)
                {
                    erased.Add(gone.BallotSeq);
                }
                else if (e is QuestionsErased questions)
                {
                    erased.UnionWith(questions.Seqs); // the voter's questions and upvotes
                }
            }
        }

        var writer = new ExportWriter(poll, shown, keys.ExportKey, erased);
        return Results.Stream(
            async body =>
            {
                var rows = 0;
                using var buffer = new MemoryStream(64 * 1024);
                if (csv)
                {
                    writer.WriteCsvHeader(buffer);
                }
                else
                {
                    writer.WriteNdjsonPoll(buffer, at);
                }

                await foreach (var e in engine.ReadPollEventsAsync(poll.Id, at.Seq, context.RequestAborted))
                {
                    if (csv)
                    {
                        writer.WriteCsvRow(buffer, e);
                    }
                    else
                    {
                        writer.WriteNdjsonEvent(buffer, e);
                    }

                    if (++rows % FlushEvery == 0)
                    {
                        await body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
                        await body.FlushAsync(context.RequestAborted);
                        buffer.SetLength(0);
                    }
                }

                if (!csv)
                {
                    writer.WriteNdjsonResults(buffer, at);
                }

                await body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
            },
            csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
            fileDownloadName: $"poll-{poll.Id}.{(csv ? "csv" : "ndjson")}");
    }

    internal static string Name(VoterShown shown) => shown switch
    {
        VoterShown.Raw => "raw",
        VoterShown.Omitted => "omitted",
        _ => "hashed",
    };
}
