using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Tally.LoadGen;

/// <summary>
/// Asks a .NET process for a full, compacting-if-needed garbage collection over its diagnostics port (an
/// EventPipe session with the runtime's GCHeapCollect keyword, as <c>dotnet-gcdump</c> does) and reads the
/// managed heap's size right after it: the memory the process's live objects hold, without garbage.
/// </summary>
internal static class GcProbe
{
    /// <summary>The runtime's GC keyword (GC events, among them GCHeapStats at the end of each collection).</summary>
    private const long GcKeyword = 0x1;

    /// <summary>Enabling a session with this keyword makes the runtime collect at once (ClrTraceEventParser.Keywords.GCHeapCollect).</summary>
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>The managed heap (all generations, LOH and POH) after an induced full collection, in MiB; null when the process could not be asked.</summary>
    public static async Task<GcHeap?> CollectAsync(int pid, TimeSpan timeout)
    {
        var client = new DiagnosticsClient(pid);
        var providers = new[] { new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Informational, GcKeyword | GcHeapCollectKeyword) };
        EventPipeSession session;
        try
        {
            session = client.StartEventPipeSession(providers, requestRundown: false);
        }
        catch (ServerNotAvailableException)
        {
            return null; // not a .NET process (the Node.js baselines), or one that has gone
        }

        using var _ = session;
        var result = new TaskCompletionSource<GcHeap>(TaskCreationOptions.RunContinuationsAsynchronously);
        var induced = false;
        var reading = Task.Run(() =>
        {
            using var source = new EventPipeEventSource(session.EventStream);
            source.Clr.GCStart += start => induced |= start.Reason == GCReason.Induced && start.Depth == 2;
            source.Clr.GCHeapStats += stats =>
            {
                if (induced)
                {
                    var bytes = stats.GenerationSize0 + stats.GenerationSize1 + stats.GenerationSize2 + stats.GenerationSize3 + stats.GenerationSize4;
                    result.TrySetResult(new GcHeap(bytes / (1024.0 * 1024), stats.GCHandleCount, stats.PinnedObjectCount));
                }
            };
            source.Process(); // returns when the session stops
        });
        try
        {
            return await result.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            try
            {
                await session.StopAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is ServerNotAvailableException or IOException or TimeoutException)
            {
                // the process went away: nothing to stop
            }

            await reading.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}

/// <summary>The managed heap after a full collection (MiB), the GC handles and the pinned objects then.</summary>
internal sealed record GcHeap(double HeapMiB, long Handles, long PinnedObjects);
