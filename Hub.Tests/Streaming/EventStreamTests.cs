using EventHub.Log;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Streaming;

/// <summary>The stream source against in-memory seams: catch-up/live hand-off, lagging, held-back rows.</summary>
public sealed class EventStreamTests
{
    [Fact]
    public async Task Events_committed_while_a_stream_catches_up_arrive_once_and_in_order()
    {
        await using var hub = new InMemoryHub(o => o.CatchUpBatchSize = 3);
        await hub.StartAsync();
        for (var i = 0; i < 10; i++) hub.Append("ao", "session_created", new { i });

        await using var stream = await hub.Source.OpenAsync(new StreamRequest([], [], Offset.Beginning));
        await using var events = stream.ReadAllAsync().GetAsyncEnumerator();
        var seen = new List<LogEvent>();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(await events.MoveNextAsync().WithTimeout());
            seen.Add(events.Current);
        }
        // Mid catch-up: more commits reach both the log and the live buffer.
        for (var i = 10; i < 20; i++) hub.Append("ao", "session_created", new { i });
        while (seen.Count < 20)
        {
            Assert.True(await events.MoveNextAsync().WithTimeout());
            seen.Add(events.Current);
        }
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), seen.Select(e => e.Seq));
    }

    [Fact]
    public async Task A_stream_whose_buffer_overflows_catches_up_from_the_log_without_loss_or_unbounded_memory()
    {
        await using var hub = new InMemoryHub(o => o.SubscriberBufferCapacity = 4);
        await hub.StartAsync();
        await using var stream = await hub.Source.OpenAsync(new StreamRequest(["ao"], [], null));
        await using var events = stream.ReadAllAsync().GetAsyncEnumerator();
        var first = events.MoveNextAsync(); // the reader is waiting, then stops reading

        hub.Append("ao", "session_created", new { n = 0 });
        Assert.True(await first.WithTimeout());
        // 200 events while the reader does not read: the buffer holds 4, the rest are refused.
        var last = default(LogEvent);
        for (var n = 1; n < 200; n++) last = hub.Append("ao", "session_created", new { n });
        await TaskTimeouts.UntilAsync(() => hub.Fanout.Head >= last!.Position, because: "the tail did not publish everything");
        Assert.True(stream.LagCount > 0);

        var seen = new List<long> { events.Current.Seq };
        while (seen.Count < 200)
        {
            Assert.True(await events.MoveNextAsync().WithTimeout());
            seen.Add(events.Current.Seq);
        }
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), seen);

        // And it is live again afterwards.
        hub.Append("ao", "session_created", new { n = 200 });
        Assert.True(await events.MoveNextAsync().WithTimeout());
        Assert.Equal(201, events.Current.Seq);
    }

    [Fact]
    public async Task A_stream_whose_buffered_payloads_pass_their_bound_catches_up_from_the_log_without_loss()
    {
        // Room for 1,024 events, but only ~4 KB of payloads: 50 events of 1 KB overflow it.
        await using var hub = new InMemoryHub(o => o.SubscriberBufferPayloadBytes = 4_000);
        await hub.StartAsync();
        await using var stream = await hub.Source.OpenAsync(new StreamRequest(["ao"], [], null));
        await using var events = stream.ReadAllAsync().GetAsyncEnumerator();
        var first = events.MoveNextAsync(); // the reader is waiting, then stops reading

        hub.Append("ao", "doc_updated", new { n = 0 });
        Assert.True(await first.WithTimeout());
        var last = default(LogEvent);
        for (var n = 1; n < 50; n++) last = hub.Append("ao", "doc_updated", new { n, body = new string('x', 1000) });
        await TaskTimeouts.UntilAsync(() => hub.Fanout.Head >= last!.Position, because: "the tail did not publish everything");
        Assert.True(stream.LagCount > 0, "the buffer took 49 events of 1 KB past a 4 KB bound");

        var seen = new List<long> { events.Current.Seq };
        while (seen.Count < 50)
        {
            Assert.True(await events.MoveNextAsync().WithTimeout());
            seen.Add(events.Current.Seq);
        }
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task A_row_committed_while_an_older_transaction_is_open_does_not_wait_for_it_and_the_older_row_arrives_at_its_commit()
    {
        await using var hub = new InMemoryHub();
        await hub.StartAsync();
        await using var stream = await hub.Source.OpenAsync(new StreamRequest([], [], null));
        await using var events = stream.ReadAllAsync().GetAsyncEnumerator();

        var older = hub.Log.Begin();
        var a = older.Add("ao", "session_created");        // lower seq and lower transaction id
        var b = hub.Append("ao", "session_created");       // commits first: its tick comes first
        Assert.True(await events.MoveNextAsync().WithTimeout());
        Assert.Equal(b.Seq, events.Current.Seq);
        older.Commit();
        hub.Wakeup.Signal();
        Assert.True(await events.MoveNextAsync().WithTimeout());
        Assert.Equal(a, events.Current.Seq);
        Assert.True(events.Current.Position > b.Position);  // in the tick after its commit
    }

    [Fact]
    public async Task A_stream_from_now_skips_what_committed_before_it_opened_even_if_the_tail_had_not_published_it_yet()
    {
        await using var hub = new InMemoryHub();
        await hub.StartAsync();
        hub.Log.Append("ao", "session_created"); // committed and ticked; the tail may not have read it yet

        await using var stream = await hub.Source.OpenAsync(new StreamRequest([], [], null));
        await using var events = stream.ReadAllAsync().GetAsyncEnumerator();
        var older = hub.Log.Begin();
        var afterNow = older.Add("ao", "session_created");
        var later = hub.Append("ao", "session_created");
        older.Commit();
        hub.Wakeup.Signal();

        Assert.True(await events.MoveNextAsync().WithTimeout());
        Assert.Equal(later.Seq, events.Current.Seq);
        Assert.True(await events.MoveNextAsync().WithTimeout());
        Assert.Equal(afterNow, events.Current.Seq);
    }

    [Fact]
    public async Task Disposing_a_stream_leaves_the_fanout()
    {
        await using var hub = new InMemoryHub();
        await hub.StartAsync();
        var stream = await hub.Source.OpenAsync(new StreamRequest(["ao", "web"], [], null));
        Assert.Equal(1, hub.Fanout.SubscriberCount);
        await stream.DisposeAsync();
        Assert.Equal(0, hub.Fanout.SubscriberCount);
    }

    [Fact]
    public async Task An_offset_from_another_log_resets_and_one_beyond_its_end_is_refused()
    {
        await using var hub = new InMemoryHub();
        await hub.StartAsync();
        hub.Append("ao", "session_created");
        var foreign = await Assert.ThrowsAsync<StreamResetException>(() =>
            hub.Source.OpenAsync(new StreamRequest([], [], "0123456789.100.1")));
        Assert.Equal(ResetReasons.ForeignLog, foreign.Reason);
        Assert.StartsWith(hub.Log.Epoch + "-", foreign.ContinueFrom);
        var ahead = await Assert.ThrowsAsync<StreamRequestException>(() =>
            hub.Source.OpenAsync(new StreamRequest([], [], $"{hub.Log.Epoch}-5000-1")));
        Assert.Equal(StreamErrorCodes.OffsetOutOfRange, ahead.Code);
        var aheadEnd = await Assert.ThrowsAsync<StreamRequestException>(() =>
            hub.Source.OpenAsync(new StreamRequest([], [], $"{hub.Log.Epoch}-5000-0")));
        Assert.Equal(StreamErrorCodes.OffsetOutOfRange, aheadEnd.Code);
        var noSuchEvent = await Assert.ThrowsAsync<StreamRequestException>(() =>
            hub.Source.OpenAsync(new StreamRequest([], [], $"{hub.Log.Epoch}-2-7")));
        Assert.Equal(StreamErrorCodes.InvalidOffset, noSuchEvent.Code);
    }
}
