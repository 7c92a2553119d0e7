using Dapper;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using static EventHub.Client.EventHubConnectionState;

namespace EventHub.Client.Tests;

public sealed partial class EventHubClientTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_connection_the_server_drops_is_resumed_with_no_gap_and_no_duplicate(EventHubProtocol protocol)
    {
        var p = fixture.NewProject("drop");
        await using var reader = new ClientReader(NewClient(p, protocol));
        var s = await Writer.SessionAsync(p, 1);
        await Writer.SessionActivityAsync(s, "idle");
        var before = await reader.ReadAsync(2);

        // Events in flight when the server drops the connection: some may have reached the client,
        // some not. Then more while it reconnects.
        foreach (var activity in new[] { "active", "blocked", "waiting_input" })
            await Writer.SessionActivityAsync(s, activity);
        Assert.True(fixture.Killer.AbortAll() >= 1, "the client's connection was open");
        await reader.WaitForStateAsync(Reconnecting);
        await Writer.SessionAsync(p, 2);
        await Writer.SessionActivityAsync(s, "exited", terminated: true);
        await reader.WaitForStateAsync(Live);
        await Writer.SessionAsync(p, 3);

        var after = await reader.ReadAsync(6);
        await LogAssert.ReceivedExactlyTheLogAsync(fixture.Db, p, [.. before, .. after]);
        Assert.Equal(0, reader.Client.DuplicatesDropped); // the hub sent nothing twice (the client would drop and count it)
        Assert.Equal([Connecting, Live, Reconnecting, Live], reader.States);
    }

    [Fact]
    public async Task A_hub_restart_on_the_same_port_is_resumed_with_no_gap_and_no_duplicate_and_the_states_show_it()
    {
        var p = fixture.NewProject("restart");
        // A port below the ephemeral range: the kernel could hand one of that range, once freed, to any
        // connection made before the second hub binds it (LoopbackPorts says more).
        var first = await ClientHubFixture.StartHubAsync(fixture.Db.ConnectionString, port: EventHub.Storage.LoopbackPorts.Free());
        var port = first.BaseAddress.Port;
        HubServer? second = null;
        try
        {
            await using var reader = new ClientReader(NewClient(p, hub: first.BaseAddress));
            var s = await Writer.SessionAsync(p, 1);
            await Writer.SessionActivityAsync(s, "idle");
            var before = await reader.ReadAsync(2);

            await first.DisposeAsync();
            await reader.WaitForStateAsync(Reconnecting);
            // Committed while no hub runs: only the resume can deliver these.
            await Writer.SessionActivityAsync(s, "blocked");
            var pr = await Writer.PrAsync(s, 1);
            await Writer.PrStateAsync(pr, ci: "failing", review: "changes_requested", mergeability: "conflicting");

            second = await ClientHubFixture.StartHubAsync(fixture.Db.ConnectionString, port: port);
            await reader.WaitForStateAsync(Live);
            await Writer.CheckAsync(pr, "lint", "c0ffee", "failed");

            var after = await reader.ReadAsync(4);
            await LogAssert.ReceivedExactlyTheLogAsync(fixture.Db, p, [.. before, .. after]);
            Assert.Equal(0, reader.Client.DuplicatesDropped); // the hub sent nothing twice (the client would drop and count it)
            Assert.IsType<PrUpdated>(after[2]);

            await reader.StopAsync();
            // A stopping hub ends its streams first, so the client may reconnect to it once more
            // before it is gone: any number of Reconnecting/Live rounds may sit in between.
            var states = reader.States.ToList();
            Assert.Equal([Connecting, Live, Reconnecting], states.Take(3));
            Assert.Equal([Live, Stopped], states.TakeLast(2));
            Assert.All(states.Skip(3).SkipLast(2), st => Assert.Contains(st, new[] { Reconnecting, Live }));
            Assert.Equal(after[^1].Offset, reader.Client.LastOffset);
        }
        finally
        {
            if (second is not null) await second.DisposeAsync();
            else await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_second_enumeration_resumes_after_the_last_event_the_first_one_yielded()
    {
        var p = fixture.NewProject("again");
        await using var client = NewClient(p);
        await Writer.SessionAsync(p, 1);
        await Writer.SessionAsync(p, 2);
        var first = await FirstAsync(client);
        Assert.Equal($"{p}-1", first.SessionId);

        await Writer.SessionAsync(p, 3);
        var next = await FirstAsync(client);
        Assert.Equal($"{p}-2", next.SessionId); // not 1 again, and 2 is not skipped
        Assert.Equal(Stopped, client.State);

        static async Task<ChangeEvent> FirstAsync(EventHubClient client)
        {
            using var cts = new CancellationTokenSource(TaskTimeouts.Default);
            await foreach (var e in client.ReadAllAsync(cts.Token)) return e;
            throw new InvalidOperationException("The stream ended.");
        }
    }
}
