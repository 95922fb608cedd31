using System.Text;
using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Tally.Server.Http;

/// <summary>
/// Reads a JSON body with a size limit and turns every way it can be wrong (no or wrong content type,
/// too large, empty, not UTF-8, not JSON, wrong types, unknown fields) into a precise problem.
/// </summary>
internal static class JsonBody
{
    public static async ValueTask<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, long maxBytes)
        where T : class
    {
        if (!IsJson(request.ContentType))
        {
            return (null, Problems.UnsupportedMediaType(request.ContentType));
        }

        // The body is read as it comes: a compressed one would only fail later as "not valid JSON" (RFC 9110 §15.5.16: 415).
        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && !encoding.ToString().Trim().Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problems.UnsupportedContentEncoding(encoding.ToString()));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, Problems.BodyTooLarge(maxBytes));
        }

        PipeReader body = request.BodyReader;
        ReadResult read;
        while (true)
        {
            try
            {
                read = await body.ReadAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex)
            {
                // The server could not read the body (bad chunked framing, a body shorter than its length, too slow):
                // a client error, not a 500 from the exception handler.
                return (null, ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? Problems.BodyTooLarge(maxBytes) : Problems.UnreadableBody(ex.StatusCode, ex.Message));
            }
            catch (IOException ex)
            {
                // Kestrel reports some framing errors this way (a chunk size that overflows: "Bad chunk size data."),
                // and a connection reset too; either way the client sent what cannot be read.
                return (null, Problems.UnreadableBody(StatusCodes.Status400BadRequest, ex.Message));
            }

            if (read.Buffer.Length > maxBytes)
            {
                body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                return (null, Problems.BodyTooLarge(maxBytes));
            }

            if (read.IsCompleted || read.IsCanceled)
            {
                break;
            }

            body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        try
        {
            if (read.Buffer.IsEmpty)
            {
                return (null, Problems.InvalidJson("The request body is empty; send a JSON object."));
            }

            var reader = new Utf8JsonReader(read.Buffer);
            var value = JsonSerializer.Deserialize(ref reader, typeInfo);

            // Deserialize(ref reader) stops after one value and ignores the rest. Read on to the end so that
            // trailing data is refused: the reader throws on anything but whitespace after a single value.
            if (reader.Read())
            {
                return (null, Problems.InvalidJson($"The body holds more than one JSON value: another one starts at byte {reader.TokenStartIndex + 1}."));
            }

            return value is null
                ? (null, Problems.InvalidJson("The request body is null; send a JSON object."))
                : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.InvalidJson(Describe(ex)));
        }
        catch (InvalidOperationException ex) when (IsInvalidUtf8(ex))
        {
            return (null, Problems.InvalidJson("The request body is not valid UTF-8."));
        }
        finally
        {
            body.AdvanceTo(read.Buffer.End);
        }
    }

    private static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            var parameters = mediaType[(semicolon + 1)..];
            mediaType = mediaType[..semicolon];
            var charset = parameters.IndexOf("charset=", StringComparison.OrdinalIgnoreCase);
            if (charset >= 0)
            {
                var value = parameters[(charset + 8)..].Trim().Trim('"');
                var end = value.IndexOf(';');
                value = end >= 0 ? value[..end].Trim() : value;
                if (!value.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !value.Equals("utf8", StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }
        }

        mediaType = mediaType.Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsInvalidUtf8(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is DecoderFallbackException || e.Message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("transcode", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The parser's message without the framework's type names, with the JSON path and position.</summary>
    private static string Describe(JsonException ex)
    {
        var message = ex.Message;
        if (IsInvalidUtf8(ex))
        {
            return "The request body is not valid UTF-8.";
        }

        var where = ex.Path is { Length: > 0 } path && path != "$" ? $" at {path}" : string.Empty;
        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            var at = $"(line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})";
            if (where.Length == 0)
            {
                return $"The body must be a JSON object {at}.";
            }

            if (ex.InnerException?.Message.Contains("UTF-16", StringComparison.Ordinal) == true)
            {
                return $"The string{where} is not valid text: it has an unpaired surrogate escape {at}.";
            }

            // The serializer names the target type: "to System.Int32." (an option id) or "to System.Nullable`1[System.Int32]." (maxChoices).
            return message.Contains("to System.Int32.", StringComparison.Ordinal) || message.Contains("[System.Int32].", StringComparison.Ordinal)
                ? $"The value{where} must be a whole number from {int.MinValue} to {int.MaxValue} {at}."
                : $"A value{where} has the wrong type {at}.";
        }

        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            var name = message.Split('\'') is { Length: > 2 } parts ? parts[1] : "?";
            return $"The field \"{name}\"{where} is not part of this request.";
        }

        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            return $"A field is given twice{where}.";
        }

        return $"The body is not valid JSON{where} (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).";
    }
}
