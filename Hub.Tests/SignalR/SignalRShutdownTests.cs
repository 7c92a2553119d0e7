using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.SignalR;

/// <summary>
/// A hub that stops gracefully ends its SignalR streams as it ends its SSE streams: with the
/// final <c>server_ended</c> item (or, for a client that does not read signals as items, usually
/// the HubException that says to resume), before SignalR closes the connections. Without
/// <see cref="EventHub.SignalR.Internal.SignalRStreamsStopDrain"/> SignalR's own shutdown closes
/// them first and the client sees a lost connection instead.
/// </summary>
public sealed class SignalRShutdownTests
{
    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task Stopping_the_hub_ends_every_SignalR_stream_with_server_ended_before_the_connection_closes(WireProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync();
        // A shutdown timeout far beyond the test's bound: whatever holds the stop shows as time.
        // The drain's own bound well above its 1 s default: the suite runs two test classes at once
        // in one process, and their work on the shared thread pool (2 cores) delayed these streams'
        // ends by 1.5 s past the stop in a CI run (the drain's warning, then "server ended"); the
        // test is about the order of the final item and the close, which a drain that times out
        // cannot keep. Without the drain (SignalR:StopDrainTimeout 0) it fails at once.
        var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["HostOptions:ShutdownTimeout"] = "00:02:00",
            ["SignalR:StopDrainTimeout"] = "00:00:10",
        });
        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress, protocol);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        // Written first, so that every stream reads it whenever SignalR has opened it.
        await db.Writer.SessionAsync("ao", 1);
        var project = await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
            new StreamEventsRequest { Projects = ["ao"], After = "0", SignalItems = true }).WithTimeout();
        var all = await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
            new StreamEventsRequest { After = "0", SignalItems = true }).WithTimeout();
        var legacy = await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
            new StreamEventsRequest { Projects = ["ao"], After = "0" }).WithTimeout();
        foreach (var stream in new[] { project, all, legacy })
            Assert.Equal("session_created", (await stream.ReadAsync().AsTask().WithTimeout()).Type);

        var stopping = hub.DisposeAsync().AsTask();

        // The final item is on the connection before the hub closes it (SignalR's sender has
        // written it when it takes the stream's end). The completion that follows it is written by
        // SignalR a moment later and can, on a loaded machine, come after the connection's close
        // message: then the stream ends as the connection closes, not as a completion.
        foreach (var (name, stream) in new[] { ("project", project), ("all", all) })
        {
            var (items, error) = await TestEventStream.ReadToEndAsync(stream);
            var seen = $"the {name} stream read [{string.Join(", ", items.Select(i => i.Type))}] and ended by {error?.GetType().Name ?? "completion"} {error?.Message}";
            Assert.True(items.Count == 1, seen);
            Assert.True(StreamSignal.TryRead(items[0], out var signal), seen);
            Assert.Equal((StreamSignalTypes.StreamError, ErrorCodes.ServerEnded), (signal.Type, signal.Code));
        }
        // A client that does not read signals as items learns it from the stream's error, which
        // races with the close message in the same way.
        var (legacyItems, legacyError) = await TestEventStream.ReadToEndAsync(legacy);
        Assert.True(legacyItems.Count == 0 && legacyError is not null,
            $"the legacy stream read [{string.Join(", ", legacyItems.Select(i => i.Type))}] and ended by {legacyError?.GetType().Name ?? "completion"} {legacyError?.Message}");
        if (legacyError is HubException hubError) Assert.Contains("The server ended this stream", hubError.Message);
        await closed.Task.WithTimeout();
        await stopping.WithTimeout(TimeSpan.FromSeconds(15));
    }
}
