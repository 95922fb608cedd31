using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

/// <summary>
/// Every way a request can be wrong gets a precise 4xx problem (never a 500) and changes nothing:
/// after each case the fixture's polls have the same results (seq, totalVotes, counts) and no poll was added.
/// </summary>
public sealed class BadInputTests(BadInputTests.Fixture fixture) : IClassFixture<BadInputTests.Fixture>
{
    private const string Single = "{single}";
    private const string Multi = "{multi}";
    private const string Closed = "{closed}";
    private const string Vote = "/v1/polls/{single}/votes";
    private const string MultiVote = "/v1/polls/{multi}/votes";
    private const string Batch = "/v1/votes/batch";
    private const string Create = "/v1/polls";
    private const string Json = "application/json";

    private static readonly string ValidPoll = """{"question":"Q?","options":["a","b","c"],"kind":"single","dedupe":"voter"}""";

    private static readonly Dictionary<string, BadCase> Cases = BuildCases().ToDictionary(c => c.Name);

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Bad_input_gets_a_precise_problem_and_changes_nothing(string name)
    {
        var c = Cases[name];
        var before = await fixture.StateAsync();

        using var request = new HttpRequestMessage(c.Method, fixture.Resolve(c.Path));
        if (c.Body is not null)
        {
            var bytes = c.Body();
            HttpContent content = c.Chunked ? new ChunkedContent(bytes) : new ByteArrayContent(bytes);
            if (c.ContentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
            }

            foreach (var (header, value) in c.ContentHeaders ?? [])
            {
                content.Headers.TryAddWithoutValidation(header, value);
            }

            request.Content = content;
        }

        foreach (var (header, value) in c.Headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        HttpResponseMessage response;
        try
        {
            response = await fixture.Server.Admin.SendAsync(request);
        }
        catch (HttpRequestException ex) when (c.ResetWhileSendingAllowed && ex.InnerException is IOException)
        {
            Assert.Equal(before, await fixture.StateAsync());
            return;
        }

        using var _ = response;
        var problem = await ApiClient.AssertProblemAsync(response, c.Status, c.Slug);
        if (c.DetailContains is not null)
        {
            Assert.Contains(c.DetailContains, (string?)problem["detail"], StringComparison.Ordinal);
        }

        // Client input is repeated clipped (40 characters), whatever was sent.
        Assert.True(((string?)problem["detail"])!.Length <= 200, (string?)problem["detail"]);

        Assert.Equal(before, await fixture.StateAsync());
    }

    [Theory]
    [InlineData("null item", """{"votes":[null]}""")]
    [InlineData("missing pollId", """{"votes":[{"optionIds":[1],"voterId":"batch-a"}]}""")]
    [InlineData("missing optionIds", """{"votes":[{"pollId":"{single}","voterId":"batch-b"}]}""")]
    [InlineData("null pollId", """{"votes":[{"pollId":null,"optionIds":[1],"voterId":"batch-c"}]}""")]
    [InlineData("empty optionIds", """{"votes":[{"pollId":"{single}","optionIds":[],"voterId":"batch-d"}]}""")]
    [InlineData("no voterId on a voter poll", """{"votes":[{"pollId":"{single}","optionIds":[1]}]}""")]
    [InlineData("voterId with a zero-width space", """{"votes":[{"pollId":"{single}","optionIds":[1],"voterId":"batch\u200b-i"}]}""")]
    [InlineData("voterId with white space at the end", """{"votes":[{"pollId":"{single}","optionIds":[1],"voterId":"batch-j "}]}""")]
    [InlineData("idempotencyKey with a control character", """{"votes":[{"pollId":"{single}","optionIds":[1],"voterId":"batch-k","idempotencyKey":"k\u0007"}]}""")]
    [InlineData("idempotencyKey with a BOM", """{"votes":[{"pollId":"{single}","optionIds":[1],"voterId":"batch-l","idempotencyKey":"\ufeffk"}]}""")]
    [InlineData("too long idempotencyKey", """{"votes":[{"pollId":"{single}","optionIds":[1],"voterId":"batch-e","idempotencyKey":"KEY129"}]}""")]
    public async Task A_bad_batch_item_is_rejected_with_a_validation_error_and_changes_nothing(string name, string body)
    {
        var before = await fixture.StateAsync();
        using var response = await fixture.Server.Client.PostRawAsync(Batch, fixture.Resolve(body.Replace("KEY129", new string('k', 129), StringComparison.Ordinal)));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode} {text}");
        var result = JsonNode.Parse(text)!["results"]!.AsArray().Single()!;
        Assert.Equal("rejected", (string?)result["status"]);
        Assert.Equal("urn:tally:problem:validation", (string?)result["error"]!["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)result["error"]!["title"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)result["error"]!["detail"]));
        Assert.Null(result["voteId"]);
        Assert.Equal(before, await fixture.StateAsync());
    }

    [Fact]
    public async Task A_batch_item_with_a_60000_character_poll_id_is_no_such_poll_and_not_echoed()
    {
        var before = await fixture.StateAsync();
        var pollId = new string('z', 60_000);
        using var response = await fixture.Server.Client.PostRawAsync(Batch, $$"""{"votes":[{"pollId":"{{pollId}}","optionIds":[1],"voterId":"batch-long"}]}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(text.Length < 400, text);
        var result = JsonNode.Parse(text)!["results"]!.AsArray().Single()!;
        Assert.Equal("urn:tally:problem:poll-not-found", (string?)result["error"]!["type"]);
        Assert.Contains(new string('z', 40) + "…", (string?)result["error"]!["detail"], StringComparison.Ordinal);
        Assert.Equal(before, await fixture.StateAsync());
    }

    [Theory]
    [InlineData("unknown poll", """{"votes":[{"pollId":"nosuchpoll","optionIds":[1],"voterId":"batch-f"}]}""", "poll-not-found")]
    [InlineData("poll id of another shape", """{"votes":[{"pollId":"no-such-poll","optionIds":[1],"voterId":"batch-m"}]}""", "poll-not-found")]
    [InlineData("poll id of 65 characters", """{"votes":[{"pollId":"ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp","optionIds":[1],"voterId":"batch-n"}]}""", "poll-not-found")]
    [InlineData("unknown option", """{"votes":[{"pollId":"{single}","optionIds":[9],"voterId":"batch-g"}]}""", "unknown-option")]
    [InlineData("closed poll", """{"votes":[{"pollId":"{closed}","optionIds":[1],"voterId":"batch-h"}]}""", "poll-closed")]
    public async Task A_batch_item_the_poll_refuses_is_rejected_with_its_problem_type(string name, string body, string slug)
    {
        var before = await fixture.StateAsync();
        using var response = await fixture.Server.Client.PostRawAsync(Batch, fixture.Resolve(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode} {text}");
        var result = JsonNode.Parse(text)!["results"]!.AsArray().Single()!;
        Assert.Equal("rejected", (string?)result["status"]);
        Assert.Equal("urn:tally:problem:" + slug, (string?)result["error"]!["type"]);
        Assert.Equal(before, await fixture.StateAsync());
    }

    [Theory]
    [InlineData("chunk size not hex", "zz\r\n{\"optionIds\":[1],\"voterId\":\"raw-1\"}\r\n0\r\n\r\n")]
    [InlineData("chunk longer than its size", "3\r\n{\"optionIds\":[1],\"voterId\":\"raw-2\"}\r\n0\r\n\r\n")]
    [InlineData("chunk size beyond long", "FFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n")]
    public async Task A_body_with_broken_chunked_framing_is_a_400_problem_not_a_500(string name, string chunkedBody)
    {
        var before = await fixture.StateAsync();
        var head = $"POST {fixture.Resolve(Vote)} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";

        var (status, contentType, body) = await RawHttp.SendAsync(fixture.Server.BaseAddress, Encoding.ASCII.GetBytes(head + chunkedBody));

        Assert.True(status == 400, $"{name}: {status} {body}");
        Assert.Equal("application/problem+json", contentType);
        var problem = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("urn:tally:problem:malformed-request", (string?)problem["type"]);
        Assert.Equal(400, (int)problem["status"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]));
        Assert.Equal(before, await fixture.StateAsync());
    }

    private static IEnumerable<BadCase> BuildCases()
    {
        // ---- POST /v1/polls/{id}/votes: the body is not JSON, or not this request's JSON (400) ----
        yield return Bad("vote: malformed JSON", Vote, """{optionIds:[1],voterId:"a"}""", 400, "invalid-json");
        yield return Bad("vote: truncated JSON", Vote, """{"optionIds":[1],"voterId":"a""", 400, "invalid-json");
        yield return Bad("vote: truncated JSON in an array", Vote, """{"optionIds":[1,""", 400, "invalid-json");
        yield return Bad("vote: JSON array", Vote, "[1]", 400, "invalid-json") with { DetailContains = "must be a JSON object" };
        yield return Bad("vote: JSON string", Vote, "\"vote\"", 400, "invalid-json") with { DetailContains = "must be a JSON object" };
        yield return Bad("vote: JSON number", Vote, "42", 400, "invalid-json");
        yield return Bad("vote: JSON null", Vote, "null", 400, "invalid-json") with { DetailContains = "null" };
        yield return Bad("vote: empty body", Vote, "", 400, "invalid-json") with { DetailContains = "empty" };
        yield return Bad("vote: whitespace body", Vote, "  \r\n ", 400, "invalid-json");
        yield return Bad("vote: optionIds as string", Vote, """{"optionIds":"1","voterId":"a"}""", 400, "invalid-json") with { DetailContains = "$.optionIds" };
        yield return Bad("vote: optionIds as array of strings", Vote, """{"optionIds":["1"],"voterId":"a"}""", 400, "invalid-json") with { DetailContains = "whole number" };
        yield return Bad("vote: optionIds as number", Vote, """{"optionIds":1,"voterId":"a"}""", 400, "invalid-json");
        yield return Bad("vote: optionIds with a fraction", Vote, """{"optionIds":[1.5],"voterId":"a"}""", 400, "invalid-json");
        yield return Bad("vote: optionIds with null", Vote, """{"optionIds":[null],"voterId":"a"}""", 400, "invalid-json");
        yield return Bad("vote: voterId as number", Vote, """{"optionIds":[1],"voterId":7}""", 400, "invalid-json");
        yield return Bad("vote: voterId as object", Vote, """{"optionIds":[1],"voterId":{}}""", 400, "invalid-json");
        yield return Bad("vote: huge option id", Vote, """{"optionIds":[99999999999],"voterId":"a"}""", 400, "invalid-json") with { DetailContains = "whole number" };
        yield return Bad("vote: option id beyond long", Vote, """{"optionIds":[1e400],"voterId":"a"}""", 400, "invalid-json");
        yield return Bad("vote: unknown field", Vote, """{"optionIds":[1],"voterId":"a","weight":100}""", 400, "invalid-json") with { DetailContains = "\"weight\"" };
        yield return Bad("vote: field names in capitals", Vote, """{"OPTIONIDS":[1],"VOTERID":"caps"}""", 400, "invalid-json") with { DetailContains = "\"OPTIONIDS\"" };
        yield return Bad("vote: a field name in another case", Vote, """{"optionIds":[1],"voterid":"case"}""", 400, "invalid-json") with { DetailContains = "\"voterid\"" };
        yield return Bad("vote: a field name in PascalCase", Vote, """{"OptionIds":[1],"voterId":"pascal"}""", 400, "invalid-json") with { DetailContains = "\"OptionIds\"" };
        yield return Bad("vote: field in wrong case twice", Vote, """{"optionIds":[1],"OptionIds":[2],"voterId":"a"}""", 400, "invalid-json");
        yield return Bad("vote: duplicate property", Vote, """{"optionIds":[1],"optionIds":[2],"voterId":"a"}""", 400, "invalid-json") with { DetailContains = "twice" };
        yield return Bad("vote: comment", Vote, """{"optionIds":[1] /* me */,"voterId":"a"}""", 400, "invalid-json");
        yield return Bad("vote: trailing comma", Vote, """{"optionIds":[1],"voterId":"a",}""", 400, "invalid-json");
        yield return Bad("vote: second JSON value after the object", Vote, """{"optionIds":[1],"voterId":"trailing-1"} {"optionIds":[2]}""", 400, "invalid-json") with { DetailContains = "byte" };
        yield return Bad("vote: garbage after the object", Vote, """{"optionIds":[1],"voterId":"trailing-2"}xyz""", 400, "invalid-json");
        yield return Bad("vote: non-UTF-8 bytes in a string", Vote, () => Concat("""{"optionIds":[1],"voterId":"a"""u8, [0xFF, 0xFE, 0xC3], "\"}"u8), Json, 400, "invalid-json") with { DetailContains = "UTF-8" };
        yield return Bad("vote: invalid UTF-8 in a field name", Vote, () => Concat("""{"optionIds":[1],"voter"""u8, [0xFF], "Id\":\"a\"}"u8), Json, 400, "invalid-json");
        yield return Bad("vote: lone low surrogate escape", Vote, """{"optionIds":[1],"voterId":"a\uDC00b"}""", 400, "invalid-json") with { DetailContains = "surrogate" };
        yield return Bad("vote: reversed surrogate pair escape", Vote, """{"optionIds":[1],"voterId":"\uDE00\uD83D"}""", 400, "invalid-json") with { DetailContains = "surrogate" };
        yield return Bad("vote: lone surrogate escape", Vote, """{"optionIds":[1],"voterId":"\uD800"}""", 400, "invalid-json") with { DetailContains = "surrogate" };
        yield return Bad("vote: UTF-16 bytes sent as application/json", Vote, () => Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("""{"optionIds":[1],"voterId":"utf16"}""")).ToArray(), Json, 400, "invalid-json");
        yield return Bad("vote: charset=utf-16", Vote, () => Encoding.Unicode.GetBytes("""{"optionIds":[1],"voterId":"utf16"}"""), "application/json; charset=utf-16", 415, "unsupported-media-type");

        // ---- media type (415) ----
        yield return Bad("vote: text/plain", Vote, () => Utf8("""{"optionIds":[1],"voterId":"a"}"""), "text/plain", 415, "unsupported-media-type") with { DetailContains = "text/plain" };
        yield return Bad("vote: no Content-Type", Vote, () => Utf8("""{"optionIds":[1],"voterId":"a"}"""), null, 415, "unsupported-media-type") with { DetailContains = "no Content-Type" };
        yield return Bad("vote: charset=latin1", Vote, () => Utf8("""{"optionIds":[1],"voterId":"a"}"""), "application/json; charset=latin1", 415, "unsupported-media-type") with { DetailContains = "latin1" };
        yield return Bad("vote: form content", Vote, () => Utf8("optionIds=1&voterId=a"), "application/x-www-form-urlencoded", 415, "unsupported-media-type");
        yield return Bad("vote: application/jsonx", Vote, () => Utf8("""{"optionIds":[1],"voterId":"a"}"""), "application/jsonx", 415, "unsupported-media-type");
        yield return Bad("vote: no body and no Content-Type", Vote, null, null, 415, "unsupported-media-type");
        yield return new BadCase("vote: gzip Content-Encoding", HttpMethod.Post, Vote, () => Gzip("""{"optionIds":[1],"voterId":"gzip"}"""), Json, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type")
        {
            ContentHeaders = [("Content-Encoding", "gzip")],
            DetailContains = "gzip",
        };
        yield return new BadCase("batch: gzip Content-Encoding", HttpMethod.Post, Batch, () => Gzip("""{"votes":[{"pollId":"{single}","optionIds":[1],"voterId":"gzip"}]}"""), Json, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type")
        {
            ContentHeaders = [("Content-Encoding", "gzip")],
        };

        // ---- the ballot breaks a rule of the poll (422) ----
        yield return Bad("vote: no optionIds", Vote, """{"voterId":"a"}""", 422, "validation");
        yield return Bad("vote: optionIds null", Vote, """{"optionIds":null,"voterId":"a"}""", 422, "validation");
        yield return Bad("vote: empty optionIds", Vote, """{"optionIds":[],"voterId":"a"}""", 422, "validation");
        yield return Bad("vote: no voterId on a voter poll", Vote, """{"optionIds":[1]}""", 422, "validation");
        yield return Bad("vote: empty voterId", Vote, """{"optionIds":[1],"voterId":""}""", 422, "validation");
        yield return Bad("vote: whitespace voterId", Vote, """{"optionIds":[1],"voterId":"  \t "}""", 422, "validation");
        yield return Bad("vote: voterId with a zero-width space", Vote, """{"optionIds":[1],"voterId":"ali\u200bce"}""", 422, "validation") with { DetailContains = "U+200B" };
        yield return Bad("vote: voterId with a zero-width space as raw UTF-8", Vote, () => Concat("""{"optionIds":[1],"voterId":"ali"""u8, [0xE2, 0x80, 0x8B], "ce\"}"u8), Json, 422, "validation") with { DetailContains = "U+200B" };
        yield return Bad("vote: voterId with white space at the end", Vote, """{"optionIds":[1],"voterId":"alice "}""", 422, "validation") with { DetailContains = "white space at the end" };
        yield return Bad("vote: voterId with white space at the start", Vote, """{"optionIds":[1],"voterId":"\u00a0alice"}""", 422, "validation") with { DetailContains = "white space at the start" };
        yield return Bad("vote: voterId with a control character", Vote, """{"optionIds":[1],"voterId":"ali\u0007ce"}""", 422, "validation") with { DetailContains = "U+0007" };
        yield return Bad("vote: voterId with a newline", Vote, """{"optionIds":[1],"voterId":"alice\nINFO forged log line"}""", 422, "validation");
        yield return Bad("vote: voterId with a BOM", Vote, """{"optionIds":[1],"voterId":"\ufeffalice"}""", 422, "validation") with { DetailContains = "U+FEFF" };
        yield return Bad("vote: voterId with a bidi override", Vote, """{"optionIds":[1],"voterId":"\u202eecila"}""", 422, "validation") with { DetailContains = "U+202E" };
        yield return Bad("vote: voterId with a noncharacter", Vote, """{"optionIds":[1],"voterId":"alice\uffff"}""", 422, "validation") with { DetailContains = "U+FFFF" };
        yield return Bad("vote: voterId with a tag character", Vote, """{"optionIds":[1],"voterId":"alice\udb40\udc41"}""", 422, "validation") with { DetailContains = "U+E0041" };
        yield return Bad("vote: voterId of 129 chars", Vote, $$"""{"optionIds":[1],"voterId":"{{new string('v', 129)}}"}""", 422, "validation") with { DetailContains = "128" };
        yield return Bad("vote: unknown option id", Vote, """{"optionIds":[4],"voterId":"a"}""", 422, "unknown-option") with { DetailContains = "Option 4" };
        yield return Bad("vote: option id 0", Vote, """{"optionIds":[0],"voterId":"a"}""", 422, "unknown-option");
        yield return Bad("vote: negative option id", Vote, """{"optionIds":[-1],"voterId":"a"}""", 422, "unknown-option");
        yield return Bad("vote: int.MaxValue option id", Vote, """{"optionIds":[2147483647],"voterId":"a"}""", 422, "unknown-option");
        yield return Bad("vote: int.MinValue option id", Vote, """{"optionIds":[-2147483648],"voterId":"a"}""", 422, "unknown-option");
        yield return Bad("vote: two options on a single poll", Vote, """{"optionIds":[1,2],"voterId":"a"}""", 422, "validation");
        yield return Bad("vote: duplicate option ids on a single poll", Vote, """{"optionIds":[1,1],"voterId":"a"}""", 422, "validation");
        yield return Bad("vote: duplicate option ids on a multiple poll", MultiVote, """{"optionIds":[2,2],"voterId":"a"}""", 422, "validation");
        yield return Bad("vote: 3 choices on maxChoices 2", MultiVote, """{"optionIds":[1,2,3],"voterId":"a"}""", 422, "validation") with { DetailContains = "at most 2" };
        yield return Bad("vote: unknown option on a multiple poll", MultiVote, """{"optionIds":[1,5],"voterId":"a"}""", 422, "unknown-option");
        yield return new BadCase("vote: empty Idempotency-Key", HttpMethod.Post, Vote, () => Utf8("""{"optionIds":[1],"voterId":"key-empty"}"""), Json, HttpStatusCode.UnprocessableEntity, "validation")
        {
            Headers = [("Idempotency-Key", "")],
            DetailContains = "idempotency key",
        };
        yield return new BadCase("vote: Idempotency-Key of 129 chars", HttpMethod.Post, Vote, () => Utf8("""{"optionIds":[1],"voterId":"key-129"}"""), Json, HttpStatusCode.UnprocessableEntity, "validation")
        {
            Headers = [("Idempotency-Key", new string('k', 129))],
        };

        // ---- size (413), with Content-Length and chunked ----
        yield return Bad("vote: body over 64 KiB", Vote, () => Padded(64 * 1024 + 1), Json, 413, "body-too-large") with { DetailContains = "65536" };
        yield return Bad("vote: body over 64 KiB, chunked", Vote, () => Padded(64 * 1024 + 1), Json, 413, "body-too-large") with { Chunked = true, DetailContains = "65536" };
        yield return Bad("vote: body of 1 MiB, chunked", Vote, () => Padded(1024 * 1024), Json, 413, "body-too-large") with { Chunked = true };

        // ---- which poll (404, 409) ----
        yield return Bad("vote: unknown poll", "/v1/polls/nosuchpoll/votes", """{"optionIds":[1],"voterId":"a"}""", 404, "poll-not-found") with { DetailContains = "nosuchpoll" };
        yield return Bad("vote: unknown poll with a bad body", "/v1/polls/nosuchpoll/votes", "{", 404, "poll-not-found");
        yield return Bad("vote: poll id of another shape", "/v1/polls/no-such-poll/votes", """{"optionIds":[1],"voterId":"a"}""", 404, "poll-not-found") with { DetailContains = "no-such-poll" };
        yield return Bad("vote: poll id of 65 characters", "/v1/polls/" + new string('p', 65) + "/votes", """{"optionIds":[1],"voterId":"a"}""", 404, "poll-not-found");
        yield return Bad("vote: poll id of 6,000 characters", "/v1/polls/" + new string('p', 6000) + "/votes", """{"optionIds":[1],"voterId":"a"}""", 404, "poll-not-found") with { DetailContains = new string('p', 40) + "…" };
        yield return Bad("vote: closed poll", $"/v1/polls/{Closed}/votes", """{"optionIds":[1],"voterId":"late"}""", 409, "poll-closed") with { DetailContains = "closed" };
        yield return Bad("vote: closed poll, voter who voted", $"/v1/polls/{Closed}/votes", """{"optionIds":[2],"voterId":"early"}""", 409, "poll-closed");

        // ---- POST /v1/votes/batch ----
        yield return Bad("batch: malformed JSON", Batch, """{"votes":[{"pollId":}]}""", 400, "invalid-json");
        yield return Bad("batch: truncated JSON", Batch, """{"votes":[{"pollId":"{single}","optionIds":[1],""", 400, "invalid-json");
        yield return Bad("batch: JSON array", Batch, """[{"pollId":"{single}","optionIds":[1],"voterId":"a"}]""", 400, "invalid-json");
        yield return Bad("batch: JSON null", Batch, "null", 400, "invalid-json");
        yield return Bad("batch: empty body", Batch, "", 400, "invalid-json");
        yield return Bad("batch: votes missing", Batch, "{}", 422, "validation");
        yield return Bad("batch: votes null", Batch, """{"votes":null}""", 422, "validation");
        yield return Bad("batch: votes not an array", Batch, """{"votes":{"pollId":"{single}"}}""", 400, "invalid-json");
        yield return Bad("batch: votes a string", Batch, """{"votes":"all of them"}""", 400, "invalid-json");
        yield return Bad("batch: item a number", Batch, """{"votes":[1]}""", 400, "invalid-json");
        yield return Bad("batch: item with unknown field", Batch, """{"votes":[{"pollId":"{single}","optionIds":[1],"voterId":"a","weight":5}]}""", 400, "invalid-json");
        yield return Bad("batch: item with wrong type", Batch, """{"votes":[{"pollId":"{single}","optionIds":"1","voterId":"a"}]}""", 400, "invalid-json");
        yield return Bad("batch: votes in another case", Batch, """{"Votes":[{"pollId":"{single}","optionIds":[1],"voterId":"a"}]}""", 400, "invalid-json") with { DetailContains = "\"Votes\"" };
        yield return Bad("batch: item field in another case", Batch, """{"votes":[{"pollid":"{single}","optionIds":[1],"voterId":"a"}]}""", 400, "invalid-json") with { DetailContains = "\"pollid\"" };
        yield return Bad("batch: lone surrogate escape in a voterId", Batch, """{"votes":[{"pollId":"{single}","optionIds":[1],"voterId":"\ud800"}]}""", 400, "invalid-json");
        yield return Bad("batch: pollId as number", Batch, """{"votes":[{"pollId":5,"optionIds":[1],"voterId":"a"}]}""", 400, "invalid-json");
        yield return Bad("batch: text/plain", Batch, () => Utf8("""{"votes":[]}"""), "text/plain", 415, "unsupported-media-type");
        yield return Bad("batch: no Content-Type", Batch, () => Utf8("""{"votes":[]}"""), null, 415, "unsupported-media-type");
        yield return Bad("batch: 10,001 votes", Batch, () => BatchOf(10_001), Json, 413, "batch-too-large") with { DetailContains = "10001" };
        yield return Bad("batch: body over 4 MiB", Batch, () => Padded(4 * 1024 * 1024 + 1), Json, 413, "body-too-large");
        yield return Bad("batch: body over 4 MiB, chunked", Batch, () => Padded(4 * 1024 * 1024 + 1), Json, 413, "body-too-large") with { Chunked = true, DetailContains = "4194304" };
        yield return Bad("batch: body over Kestrel's 8 MiB, chunked", Batch, () => Padded(9 * 1024 * 1024), Json, 413, "body-too-large") with { Chunked = true, ResetWhileSendingAllowed = true };

        // ---- POST /v1/polls ----
        yield return Bad("create: malformed JSON", Create, """{"question":"Q?","options":["a","b"]""", 400, "invalid-json");
        yield return Bad("create: truncated JSON", Create, """{"question":"Q""", 400, "invalid-json");
        yield return Bad("create: JSON array", Create, """["Q?","a","b"]""", 400, "invalid-json") with { DetailContains = "must be a JSON object" };
        yield return Bad("create: JSON string", Create, "\"Q?\"", 400, "invalid-json");
        yield return Bad("create: JSON null", Create, "null", 400, "invalid-json");
        yield return Bad("create: empty body", Create, "", 400, "invalid-json");
        yield return Bad("create: question as number", Create, """{"question":42,"options":["a","b"]}""", 400, "invalid-json");
        yield return Bad("create: options as object", Create, """{"question":"Q?","options":{"a":1,"b":2}}""", 400, "invalid-json");
        yield return Bad("create: options as string", Create, """{"question":"Q?","options":"a,b"}""", 400, "invalid-json");
        yield return Bad("create: option as number", Create, """{"question":"Q?","options":["a",2]}""", 400, "invalid-json");
        yield return Bad("create: kind as number", Create, """{"question":"Q?","options":["a","b"],"kind":1}""", 400, "invalid-json");
        yield return Bad("create: maxChoices as string", Create, """{"question":"Q?","options":["a","b"],"kind":"multiple","maxChoices":"2"}""", 400, "invalid-json") with { DetailContains = "whole number" };
        yield return Bad("create: allowChange as string", Create, """{"question":"Q?","options":["a","b"],"allowChange":"yes"}""", 400, "invalid-json");
        yield return Bad("create: closesAt not a date", Create, """{"question":"Q?","options":["a","b"],"closesAt":"tomorrow"}""", 400, "invalid-json");
        yield return Bad("create: closesAt as number", Create, """{"question":"Q?","options":["a","b"],"closesAt":1893456000}""", 400, "invalid-json");
        yield return Bad("create: unknown field", Create, """{"question":"Q?","options":["a","b"],"color":"red"}""", 400, "invalid-json");
        yield return Bad("create: a field name in another case", Create, """{"Question":"Q?","options":["a","b"]}""", 400, "invalid-json") with { DetailContains = "\"Question\"" };
        yield return Bad("create: duplicate property", Create, """{"question":"Q?","question":"R?","options":["a","b"]}""", 400, "invalid-json");
        yield return Bad("create: trailing data", Create, ValidPoll + "]", 400, "invalid-json");
        yield return Bad("create: second JSON value", Create, ValidPoll + ValidPoll, 400, "invalid-json");
        yield return Bad("create: non-UTF-8 bytes in the question", Create, () => Concat("""{"question":"Q"""u8, [0xC0, 0x80], """?","options":["a","b"]}"""u8), Json, 400, "invalid-json");
        yield return Bad("create: text/plain", Create, () => Utf8(ValidPoll), "text/plain", 415, "unsupported-media-type");
        yield return Bad("create: no Content-Type", Create, () => Utf8(ValidPoll), null, 415, "unsupported-media-type");
        yield return Bad("create: charset=latin1", Create, () => Utf8(ValidPoll), "application/json; charset=latin1", 415, "unsupported-media-type");
        yield return Bad("create: body over 64 KiB", Create, () => Padded(64 * 1024 + 1), Json, 413, "body-too-large");
        yield return Bad("create: body over 64 KiB, chunked", Create, () => Padded(64 * 1024 + 1), Json, 413, "body-too-large") with { Chunked = true };
        yield return Bad("create: no question", Create, """{"options":["a","b"]}""", 422, "validation");
        yield return Bad("create: question null", Create, """{"question":null,"options":["a","b"]}""", 422, "validation");
        yield return Bad("create: no options", Create, """{"question":"Q?"}""", 422, "validation");
        yield return Bad("create: empty question", Create, """{"question":"","options":["a","b"]}""", 422, "validation");
        yield return Bad("create: whitespace question", Create, """{"question":" \t\n ","options":["a","b"]}""", 422, "validation");
        yield return Bad("create: question of 501 chars", Create, $$"""{"question":"{{new string('q', 501)}}","options":["a","b"]}""", 422, "validation");
        yield return Bad("create: option text of 201 chars", Create, $$"""{"question":"Q?","options":["a","{{new string('o', 201)}}"]}""", 422, "validation");
        yield return Bad("create: blank option", Create, """{"question":"Q?","options":["a","  "]}""", 422, "validation");
        yield return Bad("create: null option", Create, """{"question":"Q?","options":["a",null]}""", 422, "validation");
        yield return Bad("create: no options in the array", Create, """{"question":"Q?","options":[]}""", 422, "validation");
        yield return Bad("create: 1 option", Create, """{"question":"Q?","options":["a"]}""", 422, "validation");
        yield return Bad("create: 51 options", Create, $$"""{"question":"Q?","options":[{{string.Join(",", Enumerable.Range(1, 51).Select(i => $"\"o{i}\""))}}]}""", 422, "validation") with { DetailContains = "51" };
        yield return Bad("create: duplicate option texts", Create, """{"question":"Q?","options":["a","b","a"]}""", 422, "validation");
        yield return Bad("create: option texts equal after trimming", Create, """{"question":"Q?","options":["a"," a "]}""", 422, "validation");
        yield return Bad("create: kind both", Create, """{"question":"Q?","options":["a","b"],"kind":"both"}""", 422, "validation");
        yield return Bad("create: kind in capitals", Create, """{"question":"Q?","options":["a","b"],"kind":"SINGLE"}""", 422, "validation");
        yield return Bad("create: dedupe ip", Create, """{"question":"Q?","options":["a","b"],"dedupe":"ip"}""", 422, "validation");
        yield return Bad("create: maxChoices 0", Create, """{"question":"Q?","options":["a","b","c"],"kind":"multiple","maxChoices":0}""", 422, "validation");
        yield return Bad("create: negative maxChoices", Create, """{"question":"Q?","options":["a","b","c"],"kind":"multiple","maxChoices":-1}""", 422, "validation");
        yield return Bad("create: maxChoices over options", Create, """{"question":"Q?","options":["a","b","c"],"kind":"multiple","maxChoices":4}""", 422, "validation");
        yield return Bad("create: maxChoices 2 on a single poll", Create, """{"question":"Q?","options":["a","b","c"],"kind":"single","maxChoices":2}""", 422, "validation");
        yield return Bad("create: maxChoices 0 on a single poll", Create, """{"question":"Q?","options":["a","b","c"],"maxChoices":0}""", 422, "validation");
        yield return Bad("create: closesAt in the past", Create, """{"question":"Q?","options":["a","b"],"closesAt":"2001-01-01T00:00:00Z"}""", 422, "validation") with { DetailContains = "closesAt" };
        yield return Bad("create: closesAt at the epoch", Create, """{"question":"Q?","options":["a","b"],"closesAt":"1970-01-01T00:00:00Z"}""", 422, "validation");
        yield return Bad("create: several fields wrong", Create, """{"question":"","options":["a"],"kind":"multiple","maxChoices":0}""", 422, "validation");

        // ---- reads and close of an unknown poll (404) ----
        yield return Bad("get: unknown poll", HttpMethod.Get, "/v1/polls/nosuchpoll", 404, "poll-not-found");
        yield return Bad("results: unknown poll", HttpMethod.Get, "/v1/polls/nosuchpoll/results", 404, "poll-not-found");
        yield return Bad("close: unknown poll", HttpMethod.Post, "/v1/polls/nosuchpoll/close", 404, "poll-not-found");
        yield return Bad("get: unknown poll with a long id", HttpMethod.Get, "/v1/polls/" + new string('x', 300), 404, "poll-not-found");
        yield return Bad("get: unknown poll with escaped characters", HttpMethod.Get, "/v1/polls/%E2%9C%93%20%22x%22", 404, "poll-not-found");
        yield return Bad("get: poll id of 6,000 characters", HttpMethod.Get, "/v1/polls/" + new string('g', 6000), 404, "poll-not-found") with { DetailContains = new string('g', 40) + "…" };
        yield return Bad("get: poll id with an escaped newline", HttpMethod.Get, "/v1/polls/abc%0Adef", 404, "poll-not-found");
        yield return Bad("results: poll id of 6,000 characters", HttpMethod.Get, "/v1/polls/" + new string('r', 6000) + "/results", 404, "poll-not-found") with { DetailContains = new string('r', 40) + "…" };
        yield return Bad("close: poll id of 6,000 characters", HttpMethod.Post, "/v1/polls/" + new string('c', 6000) + "/close", 404, "poll-not-found") with { DetailContains = new string('c', 40) + "…" };
        yield return Bad("events: unknown poll", HttpMethod.Get, "/v1/polls/nosuchpoll/events", 404, "poll-not-found");
        yield return Bad("events: poll id of 6,000 characters", HttpMethod.Get, "/v1/polls/" + new string('e', 6000) + "/events", 404, "poll-not-found") with { DetailContains = new string('e', 40) + "…" };

        // ---- GET /v1/polls query (400) ----
        yield return Bad("list: limit 0", HttpMethod.Get, "/v1/polls?limit=0", 400, "invalid-query");
        yield return Bad("list: limit 101", HttpMethod.Get, "/v1/polls?limit=101", 400, "invalid-query") with { DetailContains = "1 to 100" };
        yield return Bad("list: limit abc", HttpMethod.Get, "/v1/polls?limit=abc", 400, "invalid-query");
        yield return Bad("list: limit -1", HttpMethod.Get, "/v1/polls?limit=-1", 400, "invalid-query");
        yield return Bad("list: limit empty", HttpMethod.Get, "/v1/polls?limit=", 400, "invalid-query");
        yield return Bad("list: limit 1.5", HttpMethod.Get, "/v1/polls?limit=1.5", 400, "invalid-query");
        yield return Bad("list: limit beyond int", HttpMethod.Get, "/v1/polls?limit=99999999999", 400, "invalid-query");
        yield return Bad("list: limit twice", HttpMethod.Get, "/v1/polls?limit=2&limit=3", 400, "invalid-query");
        yield return Bad("list: cursor garbage", HttpMethod.Get, "/v1/polls?cursor=not-a-cursor!", 400, "invalid-query");
        yield return Bad("list: cursor empty", HttpMethod.Get, "/v1/polls?cursor=", 400, "invalid-query");
        yield return Bad("list: cursor too long", HttpMethod.Get, "/v1/polls?cursor=" + new string('A', 64), 400, "invalid-query");
        yield return Bad("list: cursor of another shape", HttpMethod.Get, "/v1/polls?cursor=" + Convert.ToBase64String("x12"u8.ToArray()).TrimEnd('='), 400, "invalid-query");
        yield return Bad("list: cursor at position 0", HttpMethod.Get, "/v1/polls?cursor=" + Convert.ToBase64String("p0"u8.ToArray()).TrimEnd('='), 400, "invalid-query");
        yield return Bad("list: cursor negative", HttpMethod.Get, "/v1/polls?cursor=" + Convert.ToBase64String("p-5"u8.ToArray()).TrimEnd('='), 400, "invalid-query");
    }

    private static BadCase Bad(string name, string path, string body, int status, string slug) =>
        new(name, HttpMethod.Post, path, () => Utf8(body), Json, (HttpStatusCode)status, slug);

    private static BadCase Bad(string name, string path, Func<byte[]>? body, string? contentType, int status, string slug) =>
        new(name, HttpMethod.Post, path, body, contentType, (HttpStatusCode)status, slug);

    private static BadCase Bad(string name, HttpMethod method, string path, int status, string slug) =>
        new(name, method, path, null, null, (HttpStatusCode)status, slug);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Gzip(string s)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(Utf8(s));
        }

        return buffer.ToArray();
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c) => [.. a, .. b, .. c];

    /// <summary>A well-formed vote whose voterId pads the body to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] Padded(int size)
    {
        var head = """{"optionIds":[1],"voterId":" """.TrimEnd();
        const string tail = "\"}";
        return Utf8(head + new string('p', size - head.Length - tail.Length) + tail);
    }

    private static byte[] BatchOf(int count)
    {
        var sb = new StringBuilder("{\"votes\":[");
        for (var i = 0; i < count; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append("{\"pollId\":\"").Append(Single).Append("\",\"optionIds\":[1],\"voterId\":\"b").Append(i).Append("\"}");
        }

        return Utf8(sb.Append("]}").ToString());
    }

    public sealed record BadCase(string Name, HttpMethod Method, string Path, Func<byte[]>? Body, string? ContentType, HttpStatusCode Status, string Slug)
    {
        public bool Chunked { get; init; }

        /// <summary>
        /// The server may end the connection while the client is still sending: it answers 413, then stops
        /// reading at Kestrel's limit, and a client that is still writing the rest (HttpClient reads the answer
        /// only once its body is sent) is reset by TCP before it reads the 413, depending on timing. The
        /// server's state must stay unchanged either way.
        /// </summary>
        public bool ResetWhileSendingAllowed { get; init; }

        /// <summary>Text the problem's detail must hold: the answer names what is wrong.</summary>
        public string? DetailContains { get; init; }

        public IReadOnlyList<(string Name, string Value)>? Headers { get; init; }

        public IReadOnlyList<(string Name, string Value)>? ContentHeaders { get; init; }
    }

    /// <summary>One server with a single-choice poll, a multiple-choice poll (maxChoices 2) and a closed poll that has votes.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private readonly Dictionary<string, string> _ids = [];

        public TestServer Server { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Server = await TestServer.StartAsync();
            _ids[Single] = (string)(await Server.Admin.CreatePollAsync(options: 3))["id"]!;
            _ids[Multi] = (string)(await Server.Admin.CreatePollAsync(new
            {
                question = "Which ones?",
                options = new[] { "a", "b", "c", "d" },
                kind = "multiple",
                maxChoices = 2,
            }))["id"]!;
            _ids[Closed] = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
            using (var vote = await Server.Client.VoteAsync(_ids[Closed], [1], "early"))
            {
                Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
            }

            using var close = await Server.Admin.PostAsync($"/v1/polls/{_ids[Closed]}/close", null);
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();

        public string Resolve(string text)
        {
            foreach (var (placeholder, id) in _ids)
            {
                text = text.Replace(placeholder, id, StringComparison.Ordinal);
            }

            return text;
        }

        /// <summary>Every poll's results document and the list of polls, as text: equal means nothing changed.</summary>
        public async Task<string> StateAsync()
        {
            var sb = new StringBuilder();
            foreach (var id in _ids.Values)
            {
                sb.AppendLine(await Server.Client.GetStringAsync($"/v1/polls/{id}/results"));
            }

            sb.AppendLine(await Server.Admin.GetStringAsync("/v1/polls?limit=100"));
            return sb.ToString();
        }
    }
}

/// <summary>Sends its bytes with <c>Transfer-Encoding: chunked</c> (no Content-Length).</summary>
file sealed class ChunkedContent(byte[] bytes) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var at = 0; at < bytes.Length; at += 16 * 1024)
        {
            await stream.WriteAsync(bytes.AsMemory(at, Math.Min(16 * 1024, bytes.Length - at)));
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>Sends bytes HttpClient would refuse to send, and reads the answer of a <c>Connection: close</c> request.</summary>
file static class RawHttp
{
    public static async Task<(int Status, string? ContentType, string Body)> SendAsync(Uri server, byte[] request)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request, timeout.Token);
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);

        var text = Encoding.UTF8.GetString(received.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, "no HTTP response: " + text);
        var lines = text[..split].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(h => h[0].Trim(), h => h[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = text[(split + 4)..];
        if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = new StringBuilder();
            var at = 0;
            while (true)
            {
                var eol = body.IndexOf("\r\n", at, StringComparison.Ordinal);
                var size = Convert.ToInt32(body[at..eol], 16);
                if (size == 0)
                {
                    break;
                }

                decoded.Append(body, eol + 2, size); // the problem bodies here are ASCII: chars = bytes
                at = eol + 2 + size + 2;
            }

            body = decoded.ToString();
        }

        return (status, headers.GetValueOrDefault("Content-Type")?.Split(';')[0], body);
    }
}
