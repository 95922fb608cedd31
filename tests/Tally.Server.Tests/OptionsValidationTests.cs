using Microsoft.Extensions.Options;
using Tally.Server.Hosting;

namespace Tally.Server.Tests;

/// <summary>Settings are checked once, at start, and a server with bad ones says every one of them.</summary>
public sealed class OptionsValidationTests
{
    [Fact]
    public void A_server_with_several_bad_settings_does_not_start_and_names_every_one()
    {
        var data = Directory.CreateTempSubdirectory("tally-options-").FullName;
        try
        {
            // Every setting is checked as the app is built, before any service reads one.
            var error = Record.Exception(() => TallyApp.Build([
                "--urls=http://127.0.0.1:0",
                $"--{ServerListeners.GrpcUrlsKey}=http://127.0.0.1:0",
                $"--TALLY_DATA={data}",
                "--TALLY_ADMIN_KEY=test-admin-key",
                "--Logging:LogLevel:Default=None",
                "--Tally:Engine:Partitions=0",
                "--Tally:Engine:QueueCapacity=0",
                "--Tally:Engine:IdempotencyRetention=01:00:00",
                "--Tally:Live:Tick=00:00:00",
                "--Tally:Live:Shards=0",
                "--Tally:WebSockets:MaxSubscriptions=0",
                "--Tally:WebSockets:CloseTimeout=00:00:00",
                "--Tally:MaxBatchVotes=0",
                "--Tally:MaxBatchBodyBytes=99999999",
                "--Tally:Sqlite:Synchronous=SOMETIMES",
            ]));

            Assert.Equal(
                [
                    "Tally:Engine:IdempotencyRetention is at least 24 hours, the contract's minimum (it is 01:00:00).",
                    "Tally:Engine:Partitions is from 1 to 256 (it is 0).",
                    "Tally:Engine:QueueCapacity is at least 1 (it is 0).",
                    "Tally:Live:Shards is at least 1 (it is 0).",
                    "Tally:Live:Tick is at least 1 ms (it is 00:00:00).",
                    "Tally:MaxBatchBodyBytes is from 1 to 8388608 bytes, Kestrel's limit (it is 99999999).",
                    "Tally:MaxBatchVotes is at least 1 (it is 0).",
                    "Tally:Sqlite:Synchronous is FULL, EXTRA or NORMAL, not \"SOMETIMES\".",
                    "Tally:WebSockets:CloseTimeout must be more than zero.",
                    "Tally:WebSockets:MaxSubscriptions must be 1 or more.",
                ],
                Failures(error).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Every failure reported: one options type's <see cref="OptionsValidationException"/>, or several in an <see cref="AggregateException"/>.</summary>
    private static List<string> Failures(Exception? error) => error switch
    {
        OptionsValidationException one => [.. one.Failures],
        AggregateException many => [.. many.Flatten().InnerExceptions.SelectMany(Failures)],
        null => throw new Xunit.Sdk.XunitException("The server was built."),
        _ => throw new Xunit.Sdk.XunitException("The start failed with " + error),
    };
}
