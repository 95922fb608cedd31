using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using MessagePack;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Live;

/// <summary>
/// A <c>/v1/ws</c> client as a test sees it: ops and messages as JSON nodes whatever the subprotocol
/// (MessagePack is written and read with MessagePack's own writer and reader), every receive bounded by
/// <see cref="TestServer.Timeout"/>, and every message kept in <see cref="Received"/>.
/// </summary>
public sealed class LiveSocket : IAsyncDisposable
{
    public const string Json = "tally.json.v1";
    public const string MessagePack = "tally.msgpack.v1";

    private LiveSocket(ClientWebSocket socket, string protocol)
    {
        Socket = socket;
        Protocol = protocol;
    }

    public ClientWebSocket Socket { get; }

    /// <summary>The subprotocol the messages are in (<see cref="Json"/> when the server chose by default).</summary>
    public string Protocol { get; }

    public bool IsMessagePack => Protocol == MessagePack;

    public List<JsonObject> Received { get; } = [];

    public static async Task<LiveSocket> ConnectAsync(TestServer server, string? subprotocol, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        if (subprotocol is not null)
        {
            socket.Options.AddSubProtocol(subprotocol);
        }

        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await socket.ConnectAsync(WebSocketUri(server), timeout.Token);
        return new LiveSocket(socket, socket.SubProtocol ?? Json);
    }

    public static Uri WebSocketUri(TestServer server) => new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/v1/ws" }.Uri;

    public Task SendAsync(JsonObject op) => SendRawAsync(Encode(op, IsMessagePack), IsMessagePack ? WebSocketMessageType.Binary : WebSocketMessageType.Text);

    public async Task SendRawAsync(byte[] message, WebSocketMessageType type)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await Socket.SendAsync(message, type, endOfMessage: true, timeout.Token);
    }

    public Task SubscribeAsync(string pollId, long? since = null) =>
        SendAsync(new JsonObject { ["op"] = "subscribe", ["pollId"] = pollId, ["since"] = since });

    public Task VoteAsync(string pollId, int[] optionIds, string voterId, string requestId, string? idempotencyKey = null)
    {
        var op = new JsonObject
        {
            ["op"] = "vote",
            ["pollId"] = pollId,
            ["optionIds"] = new JsonArray([.. optionIds.Select(id => (JsonNode)id)]),
            ["voterId"] = voterId,
            ["requestId"] = requestId,
        };
        if (idempotencyKey is not null)
        {
            op["idempotencyKey"] = idempotencyKey;
        }

        return SendAsync(op);
    }

    /// <summary>The next message; fails if the server closes the socket instead.</summary>
    public async Task<JsonObject> ReceiveAsync()
    {
        var (message, close) = await ReceiveOrCloseAsync();
        Assert.True(message is not null, $"expected a message, the server closed the socket: {close?.Status} {close?.Description}");
        return message;
    }

    /// <summary>Receives until <paramref name="match"/> holds, applying live messages to <paramref name="view"/> on the way.</summary>
    public async Task<JsonObject> ReceiveUntilAsync(Func<JsonObject, bool> match, LiveView? view = null)
    {
        while (true)
        {
            var message = await ReceiveAsync();
            view?.Apply(message);
            if (match(message))
            {
                return message;
            }
        }
    }

    /// <summary>Receives until the poll's view has caught up with <paramref name="seq"/>.</summary>
    public async Task ReceiveUntilSeqAsync(LiveView view, string pollId, long seq)
    {
        if (view.SeqOf(pollId) < seq)
        {
            await ReceiveUntilAsync(_ => view.SeqOf(pollId) >= seq, view);
        }
    }

    /// <summary>Sends a ping and waits for its pong: every op sent before it has been handled.</summary>
    public async Task PingAsync(LiveView? view = null)
    {
        var requestId = "ping-" + Guid.NewGuid().ToString("N");
        await SendAsync(new JsonObject { ["op"] = "ping", ["requestId"] = requestId });
        await ReceiveUntilAsync(m => (string?)m["type"] == "pong" && (string?)m["requestId"] == requestId, view);
    }

    /// <summary>Reads until the server's close frame (messages before it are kept) and answers it.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Description)> ReceiveCloseAsync()
    {
        while (true)
        {
            var (message, close) = await ReceiveOrCloseAsync();
            if (close is { } closed)
            {
                if (Socket.State == WebSocketState.CloseReceived)
                {
                    using var timeout = new CancellationTokenSource(TestServer.Timeout);
                    await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }

                return closed;
            }
        }
    }

    /// <summary>A normal close handshake started by the client.</summary>
    public async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
    }

    public ValueTask DisposeAsync()
    {
        Socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public static byte[] Encode(JsonObject op, bool messagePack)
    {
        if (!messagePack)
        {
            return Encoding.UTF8.GetBytes(op.ToJsonString());
        }

        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        WriteNode(ref writer, op);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static JsonNode? Decode(ReadOnlyMemory<byte> message)
    {
        var reader = new MessagePackReader(message);
        var node = ReadNode(ref reader);
        Assert.True(reader.End, "one MessagePack value per message");
        return JsonNode.Parse(node?.ToJsonString() ?? "null"); // numbers then convert like parsed JSON
    }

    private async Task<(JsonObject? Message, (WebSocketCloseStatus? Status, string? Description)? Close)> ReceiveOrCloseAsync()
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer.GetMemory(4096), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (null, (Socket.CloseStatus, Socket.CloseStatusDescription));
            }

            buffer.Advance(result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }

            Assert.Equal(IsMessagePack ? WebSocketMessageType.Binary : WebSocketMessageType.Text, result.MessageType);
            var node = IsMessagePack ? Decode(buffer.WrittenMemory) : JsonNode.Parse(buffer.WrittenSpan);
            var message = Assert.IsType<JsonObject>(node);
            Received.Add(message);
            return (message, null);
        }
    }

    private static void WriteNode(ref MessagePackWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNil();
                break;
            case JsonObject map:
                writer.WriteMapHeader(map.Count);
                foreach (var (key, item) in map)
                {
                    writer.Write(key);
                    WriteNode(ref writer, item);
                }

                break;
            case JsonArray array:
                writer.WriteArrayHeader(array.Count);
                foreach (var item in array)
                {
                    WriteNode(ref writer, item);
                }

                break;
            default:
                var value = node.AsValue();
                if (value.TryGetValue<string>(out var text))
                {
                    writer.Write(text);
                }
                else if (value.TryGetValue<bool>(out var flag))
                {
                    writer.Write(flag);
                }
                else if (value.TryGetValue<long>(out var number))
                {
                    writer.Write(number);
                }
                else
                {
                    writer.Write((long)value.GetValue<int>());
                }

                break;
        }
    }

    private static JsonNode? ReadNode(ref MessagePackReader reader)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                return null;
            case MessagePackType.Map:
                var map = new JsonObject();
                var count = reader.ReadMapHeader();
                for (var i = 0; i < count; i++)
                {
                    Assert.Equal(MessagePackType.String, reader.NextMessagePackType);
                    var key = reader.ReadString()!;
                    map[key] = ReadNode(ref reader);
                }

                return map;
            case MessagePackType.Array:
                var array = new JsonArray();
                var length = reader.ReadArrayHeader();
                for (var i = 0; i < length; i++)
                {
                    array.Add(ReadNode(ref reader));
                }

                return array;
            case MessagePackType.String:
                return reader.ReadString();
            case MessagePackType.Integer:
                return reader.ReadInt64();
            case MessagePackType.Boolean:
                return reader.ReadBoolean();
            case MessagePackType.Float:
                return reader.ReadDouble();
            default:
                throw new InvalidOperationException($"unexpected MessagePack type {reader.NextMessagePackType}");
        }
    }
}
