using System.Runtime.CompilerServices;
using System.Text.Json;
using EventHub.Client.Internal;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// The live state over a fake client (the <see cref="ILiveStateSource"/> seam): what it applies,
/// when it loads, where it moves the stream, and that it never takes an event after a reset from
/// the old stream. The end-to-end tests do the same against the real hub.
/// </summary>
public sealed class LiveStateUnitTests
{
    private static readonly Dictionary<string, LiveEntityKey> Keys = new()
    {
        ["session_created"] = new() { Kind = "session", Fields = ["id"] },
        ["session_updated"] = new() { Kind = "session", Fields = ["id"] },
        ["pr_created"] = new() { Kind = "pr", Fields = ["url"] },
        ["pr_updated"] = new() { Kind = "pr", Fields = ["url"] },
        ["pr_session_changed"] = new() { Kind = "pr", Fields = ["url"] },
        ["pr_check_recorded"] = new() { Kind = "check", Fields = ["pr", "name", "commit"] },
        ["pr_review_thread_added"] = new() { Kind = "thread", Fields = ["pr", "thread"] },
        ["pr_review_thread_resolved"] = new() { Kind = "thread", Fields = ["pr", "thread"] },
        ["tracker_updated"] = new() { Kind = "tracker", Fields = ["issue"] },
    };

    [Fact]
    public async Task Streamed_events_replace_their_entitys_event_by_the_states_keys_and_unkeyed_ones_only_move_the_offset()
    {
        var source = new FakeSource();
        source.States.Enqueue(State("s1",
            Entity("session", "[\"ao-1\"]", Event(1, "session_created", "{\"id\":\"ao-1\",\"activity\":\"active\",\"isTerminated\":false}")),
            Entity("tracker", "[\"I-1\"]", Event(2, "tracker_updated", "{\"issue\":\"I-1\",\"state\":\"open\"}"))));
        source.Streams["s1"] =
        [
            Event(3, "session_updated", "{\"id\":\"ao-1\",\"activity\":\"idle\",\"isTerminated\":false,\"previewUrl\":null,\"previewRevision\":0}"),
            Event(4, "tracker_updated", "{\"state\":\"closed\",\"issue\":\"I-1\"}"),
            Event(5, "tracker_created", "{\"issue\":\"I-2\"}"),
            Event(6, "pr_created", "{\"url\":\"u1\",\"session\":\"ao-1\",\"state\":\"open\",\"ci\":\"pending\",\"review\":\"none\",\"mergeability\":\"unknown\"}"),
            Event(7, "pr_check_recorded", "{\"pr\":\"u1\",\"name\":\"build\",\"commit\":\"c1\",\"status\":\"queued\"}"),
            Event(8, "pr_review_thread_added", "{\"pr\":\"u1\",\"thread\":\"t1\",\"path\":\"a.cs\",\"line\":3,\"resolved\":false,\"isBot\":false}"),
            Event(9, "pr_check_recorded", "{\"pr\":\"u1\",\"name\":\"build\",\"commit\":\"c1\",\"status\":\"passed\"}"),
            Event(10, "pr_session_changed", "{\"url\":\"u1\",\"fromSession\":\"ao-1\",\"toSession\":\"ao-2\"}"),
        ];
        var live = new EventHubLiveState(source, null);
        Assert.False(live.Current.IsLoaded);

        var changes = await ReadAllAsync(live);

        Assert.Equal([LiveStateChangeKind.Loaded, .. Enumerable.Repeat(LiveStateChangeKind.Applied, 2), LiveStateChangeKind.Unkeyed,
            .. Enumerable.Repeat(LiveStateChangeKind.Applied, 5)], changes.Select(c => c.Kind));
        Assert.Equal(["s1"], source.ResumedAfter);
        var state = live.Current;
        Assert.Equal("o10", state.Offset);
        Assert.Equal("o10", live.Offset);
        Assert.Equal(5, state.Count); // session, tracker, pr, check, thread

        Assert.Equal("idle", Assert.IsType<SessionUpdated>(state.Session("ao", "ao-1")).Activity);
        Assert.IsType<SessionCreated>(changes[1].Previous); // the entity's event before
        Assert.Equal(LiveEntityId.Of("ao", "session", "ao-1"), changes[1].Entity);
        Assert.Equal("closed", state.OfKind("tracker")[LiveEntityId.Of("ao", "tracker", "I-1")].Payload.GetProperty("state").GetString());
        Assert.Equal(["tracker_created"], state.UnkeyedTypes);
        Assert.Equal("passed", Assert.Single(state.Checks).Status);
        Assert.Same(state.Checks[0], state.Check("ao", "u1", "build", "c1"));
        Assert.Equal("t1", Assert.IsType<PrReviewThreadAdded>(state.Thread("ao", "u1", "t1")).Thread);
        Assert.IsType<PrSessionChanged>(Assert.Single(state.Prs)); // the latest event wins, whatever its type
        Assert.Equal(["check", "pr", "session", "thread", "tracker"], state.Kinds);
        Assert.Null(state.Session("other", "ao-1")); // an entity is of one project

        // A snapshot never changes: the one after the first event still holds what it held.
        Assert.Equal("o3", changes[1].State.Offset);
        Assert.Equal(2, changes[1].State.Count);
        Assert.Equal("open", changes[1].State.OfKind("tracker").Single().Value.Payload.GetProperty("state").GetString());
        Assert.Empty(changes[1].State.Checks);
    }

    [Fact]
    public async Task An_event_older_by_seq_than_its_entitys_moves_the_offset_and_changes_nothing()
    {
        // Two transactions that change one session and commit in one tick reach the stream in
        // transaction-id order: here the one committed second (seq 9) comes before the first (seq 8).
        var source = new FakeSource();
        source.States.Enqueue(State("s1",
            Entity("session", "[\"ao-1\"]", Event(1, "session_created", "{\"id\":\"ao-1\",\"activity\":\"active\",\"isTerminated\":false}"))));
        source.Streams["s1"] =
        [
            Event(9, "session_updated", "{\"id\":\"ao-1\",\"activity\":\"exited\",\"isTerminated\":false,\"previewUrl\":null,\"previewRevision\":0}"),
            Event(8, "session_updated", "{\"id\":\"ao-1\",\"activity\":\"idle\",\"isTerminated\":false,\"previewUrl\":null,\"previewRevision\":0}"),
        ];
        var live = new EventHubLiveState(source, null);

        var changes = await ReadAllAsync(live);

        Assert.Equal([LiveStateChangeKind.Loaded, LiveStateChangeKind.Applied, LiveStateChangeKind.Superseded], changes.Select(c => c.Kind));
        Assert.Equal("exited", Assert.IsType<SessionUpdated>(live.Current.Session("ao", "ao-1")).Activity);
        Assert.Equal("o8", live.Current.Offset); // the offset moved past it all the same
        Assert.Equal(9, changes[2].Previous!.Seq);
    }

    [Fact]
    public async Task A_reset_stops_the_stream_loads_the_state_again_and_streams_after_the_new_states_offset()
    {
        var source = new FakeSource();
        source.States.Enqueue(State("s1", Entity("session", "[\"ao-1\"]", Event(1, "session_created", "{\"id\":\"ao-1\"}"))));
        var reset = new StreamReset(StreamReset.Reasons.OffsetPruned, "pruned", "head", "o2", ["ao"], DateTimeOffset.UtcNow);
        source.Streams["s1"] =
        [
            Event(2, "session_created", "{\"id\":\"ao-2\"}"),
            reset,
            Event(99, "session_created", "{\"id\":\"ao-99\"}"), // what the client would stream after the reset's offset
        ];
        source.States.Enqueue(State("s2",
            Entity("session", "[\"ao-1\"]", Event(1, "session_created", "{\"id\":\"ao-1\"}")),
            Entity("session", "[\"ao-2\"]", Event(4, "session_updated", "{\"id\":\"ao-2\",\"activity\":\"idle\"}")),
            Entity("session", "[\"ao-3\"]", Event(5, "session_created", "{\"id\":\"ao-3\"}"))));
        source.Streams["s2"] = [Event(6, "session_updated", "{\"id\":\"ao-3\",\"activity\":\"blocked\"}")];
        var live = new EventHubLiveState(source, null);

        var changes = await ReadAllAsync(live);

        Assert.Equal([LiveStateChangeKind.Loaded, LiveStateChangeKind.Applied, LiveStateChangeKind.Reloaded, LiveStateChangeKind.Applied],
            changes.Select(c => c.Kind));
        Assert.Same(reset, changes[2].Reset);
        Assert.Equal(["s1", "s2"], source.ResumedAfter);
        Assert.Equal(2, live.Loads);
        var state = live.Current;
        Assert.Equal("o6", state.Offset);
        Assert.Equal(["ao-1", "ao-2", "ao-3"], state.Sessions.Select(s => s.Id));
        Assert.Equal("idle", state.Session("ao", "ao-2")!.Activity); // the new state's, not the old stream's
        Assert.Equal("blocked", state.Session("ao", "ao-3")!.Activity);
        Assert.DoesNotContain(changes, c => c.Event?.Seq == 99);
    }

    [Fact]
    public async Task A_later_enumeration_continues_from_the_offset_without_loading_and_one_at_a_time()
    {
        var source = new FakeSource();
        source.States.Enqueue(State("s1"));
        source.Streams["s1"] = [Event(1, "session_created", "{\"id\":\"ao-1\"}")];
        source.Streams["o1"] = [Event(2, "session_updated", "{\"id\":\"ao-1\",\"activity\":\"idle\"}")];
        var live = new EventHubLiveState(source, null);
        Assert.Equal(2, (await ReadAllAsync(live)).Count);

        var again = await ReadAllAsync(live);

        Assert.Equal([LiveStateChangeKind.Applied], again.Select(c => c.Kind));
        Assert.Equal(["s1", "o1"], source.ResumedAfter);
        Assert.Equal(1, live.Loads);
        Assert.Equal(1, source.StateCalls);
        Assert.Equal("idle", live.Current.Session("ao", "ao-1")!.Activity);
        Assert.Equal("s1", (await live.WhenLoadedAsync().WithTimeout()).Offset);

        // One enumeration at a time.
        source.Streams["o2"] = [];
        source.HoldOpen = true;
        using var stop = new CancellationTokenSource();
        var first = live.ReadChangesAsync(stop.Token).GetAsyncEnumerator();
        var moving = first.MoveNextAsync().AsTask();
        await source.Streaming.WaitAsync(TaskTimeouts.Default);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await live.ReadChangesAsync().GetAsyncEnumerator().MoveNextAsync());
        Assert.False(moving.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => moving.WithTimeout());
        await first.DisposeAsync();
        Assert.Equal(["s1", "o1", "o2"], source.ResumedAfter);
    }

    [Fact]
    public async Task The_client_moves_its_offset_only_while_not_enumerated()
    {
        var stream = System.Threading.Channels.Channel.CreateUnbounded<ChangeEvent>();
        string? openedAfter = null;
        await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = new Uri("http://127.0.0.1:1"), StartAfter = "0" })
        {
            OpenStreamOverride = (after, _) =>
            {
                openedAfter = after;
                return Task.FromResult(stream.Reader);
            },
        };
        client.ResumeAfter("x-1");
        Assert.Equal("x-1", client.LastOffset);
        await using var reading = client.ReadAllAsync().GetAsyncEnumerator();
        var next = reading.MoveNextAsync().AsTask();
        await TaskTimeouts.UntilAsync(() => Volatile.Read(ref openedAfter) is not null);
        Assert.Equal("x-1", openedAfter);
        Assert.Throws<InvalidOperationException>(() => client.ResumeAfter("x-2"));
        Assert.False(next.IsCompleted);
        await client.DisposeAsync(); // ends the enumeration quietly
        Assert.False(await next.WithTimeout());
    }

    private static async Task<List<LiveStateChange>> ReadAllAsync(EventHubLiveState live)
    {
        var changes = new List<LiveStateChange>();
        await foreach (var change in live.ReadChangesAsync().WithCancellation(new CancellationTokenSource(TaskTimeouts.Default).Token))
            changes.Add(change);
        return changes;
    }

    private static LiveState State(string offset, params LiveEntity[] entities) =>
        new() { Offset = offset, Entities = entities, EntityKeys = Keys };

    private static LiveEntity Entity(string kind, string key, ChangeEvent e) => new() { Kind = kind, Key = key, Event = e };

    private static ChangeEvent Event(long seq, string type, string payload) => new()
    {
        Seq = seq, ProjectId = "ao", Type = type, Payload = JsonDocument.Parse(payload).RootElement.Clone(),
        CreatedAt = DateTimeOffset.UnixEpoch, Offset = $"o{seq}",
    };

    /// <summary>
    /// A client that answers scripted states in turn and, after each offset, a scripted stream that
    /// then ends (as a disposed client's does), or stays open with <see cref="HoldOpen"/>.
    /// </summary>
    private sealed class FakeSource : ILiveStateSource
    {
        private string? _after;

        public Queue<LiveState> States { get; } = new();
        public Dictionary<string, List<ChangeEvent>> Streams { get; } = [];
        public List<string> ResumedAfter { get; } = [];
        public int StateCalls { get; private set; }
        public bool HoldOpen { get; set; }
        public SemaphoreSlim Streaming { get; } = new(0);

        public Task<LiveState> GetStateAsync(CancellationToken cancellationToken)
        {
            StateCalls++;
            return Task.FromResult(States.Dequeue());
        }

        public void ResumeAfter(string offset)
        {
            ResumedAfter.Add(offset);
            _after = offset;
        }

        public async IAsyncEnumerable<ChangeEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // Like the client: the stream after the offset it was last moved to, or after the last event it yielded.
            foreach (var e in Streams[_after!].ToList())
            {
                _after = e.Offset;
                yield return e.ToTyped();
            }
            if (!HoldOpen) yield break;
            Streaming.Release();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
