using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using EventHub.Tests.Operations;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.State;

/// <summary>
/// The live state (issue 15): the latest event of every entity at one offset, from which the
/// stream continues with exactly the later changes, while writers commit out of order.
/// </summary>
public sealed class LiveStateTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the state emptied as crash recovery leaves it (migration 0016): rebuilt while the writers go on
    public async Task A_state_taken_while_writers_commit_out_of_order_plus_the_stream_after_its_offset_is_exactly_the_state_computed_from_the_log(bool emptied)
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        // The writers stop once enough has followed the state (below); the minute is only a bound.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var rounds = 0; // a round writes four entities and seven events
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var session = await db.Writer.SessionAsync("ao", w * 1000 + i);
                var pr = await db.Writer.PrAsync(session, w * 1000 + i);
                await db.Writer.CheckAsync(pr, "build", "c1", "queued");
                await db.Writer.ThreadAsync(pr, "t1", "a.cs", i);
                // One transaction stays open across other writers' commits: it commits out of order.
                await using var c = await db.DataSource.OpenConnectionAsync();
                await using var tx = await c.BeginTransactionAsync();
                await c.ExecuteAsync("UPDATE sessions SET activity_state = 'idle' WHERE id = @session", new { session }, tx);
                await c.ExecuteAsync("UPDATE pr_checks SET status = 'passed' WHERE pr_url = @pr", new { pr }, tx);
                await Task.Delay(random.Next(1, 30));
                await tx.CommitAsync();
                await db.Writer.ResolveThreadAsync(pr, "t1");
                Interlocked.Increment(ref rounds);
            }
        })).ToList();

        // Some history first, then the state, while the writers go on.
        await TaskTimeouts.UntilAsync(() => Volatile.Read(ref rounds) >= 4);
        if (emptied)
        {
            // What a crash leaves of the unlogged tables: both empty (no fold in flight: the state lock).
            // The hub's upkeep or the read below rebuilds the state from the base and the log.
            await using var c = await db.DataSource.OpenConnectionAsync();
            await using var tx = await c.BeginTransactionAsync();
            await c.ExecuteAsync("SELECT pg_advisory_xact_lock(5005267704866894945); DELETE FROM eventhub_state_ready; DELETE FROM eventhub_state", transaction: tx);
            await tx.CommitAsync();
        }
        var state = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        var offset = state.GetProperty("offset").GetString()!;
        await using var after = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao", lastEventId: offset);
        var roundsAtState = Volatile.Read(ref rounds);
        await TaskTimeouts.UntilAsync(() => Volatile.Read(ref rounds) >= roundsAtState + 4); // events after the state
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        // The state, then every later event applied in stream order.
        var entities = new Dictionary<string, (long Seq, string Type)>();
        foreach (var e in state.GetProperty("entities").EnumerateArray())
        {
            var ev = e.GetProperty("event");
            entities[$"{e.GetProperty("kind").GetString()} {e.GetProperty("key").GetRawText()}"] =
                (ev.GetProperty("seq").GetInt64(), ev.GetProperty("type").GetString()!);
        }
        var inState = entities.Values.Select(v => v.Seq).ToHashSet();
        var total = await db.ChangeLogCountAsync();
        var expected = await ExpectedStateAsync(db);
        var streamed = 0;
        while (entities.Count < expected.Count || !entities.OrderBy(x => x.Key).SequenceEqual(expected.OrderBy(x => x.Key)))
        {
            var frame = await after.ReadEventAsync(TimeSpan.FromSeconds(30));
            var seq = frame.Json.GetProperty("seq").GetInt64();
            Assert.DoesNotContain(seq, inState); // no overlap: the state's events are not streamed again
            var (kind, key) = KeyOf(frame.Type, frame.Payload);
            // An entity's version is its seq (migration 0010 says why): an older one is not applied.
            if (!entities.TryGetValue($"{kind} {key}", out var held) || held.Seq < seq)
                entities[$"{kind} {key}"] = (seq, frame.Type);
            streamed++;
        }
        Assert.True(inState.Count > 10 && streamed > 10, $"{inState.Count} entities in the state, {streamed} events after it, of {total}");
        Assert.Equal(expected.OrderBy(x => x.Key), entities.OrderBy(x => x.Key));
    }

    [Fact]
    public async Task Types_without_a_key_are_left_out_and_named_a_configured_key_takes_a_new_type_in_and_the_hub_method_agrees_with_HTTP()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["State:EntityKeys:tracker_updated:Kind"] = "tracker",
            ["State:EntityKeys:tracker_updated:Fields:0"] = "issue",
        });
        await db.Writer.ProjectAsync("ao");
        await db.Writer.SessionAsync("ao", 1);
        await db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload) VALUES
                ('ao', 'tracker_created', '{"issue":"I-1"}'),
                ('ao', 'tracker_updated', '{"issue":"I-1","state":"open"}'),
                ('ao', 'tracker_updated', '{"issue":"I-1","state":"closed"}')
            """);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // every write above is in a tick

        var state = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        var kinds = state.GetProperty("entities").EnumerateArray()
            .Select(e => (e.GetProperty("kind").GetString(), e.GetProperty("key").GetRawText(), e.GetProperty("event").GetProperty("type").GetString()))
            .ToList();
        Assert.Equal([("session", "[\"ao-1\"]", "session_created"), ("tracker", "[\"I-1\"]", "tracker_updated")], kinds);
        Assert.Equal("closed", state.GetProperty("entities")[1].GetProperty("event").GetProperty("payload").GetProperty("state").GetString());
        Assert.Equal(["tracker_created"], state.GetProperty("unkeyedTypes").EnumerateArray().Select(t => t.GetString()));
        // Every keyed type's key, built-in and configured, so a client keys streamed events the same way.
        var keys = state.GetProperty("entityKeys").EnumerateObject().ToDictionary(
            k => k.Name, k => (k.Value.GetProperty("kind").GetString(), string.Join(",", k.Value.GetProperty("fields").EnumerateArray().Select(f => f.GetString()))));
        Assert.Equal(("tracker", "issue"), keys["tracker_updated"]);
        Assert.Equal(("check", "pr,name,commit"), keys["pr_check_recorded"]);
        Assert.Equal(9, keys.Count);
        // The unkeyed types are those the request selects: a type filter applies to them as to the entities.
        async Task<string[]> UnkeyedOverHttp(string query) => (await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao&" + query).WithTimeout())
            .GetProperty("unkeyedTypes").EnumerateArray().Select(t => t.GetString()!).ToArray();
        // (A state's type filter selects whole kinds: the session kind is session_created and session_updated.)
        Assert.Empty(await UnkeyedOverHttp("type=session_created&type=session_updated"));
        Assert.Empty(await UnkeyedOverHttp("type=pr_*"));
        Assert.Equal(["tracker_created"], await UnkeyedOverHttp("type=tracker_*"));
        Assert.Equal(["tracker_created"], await UnkeyedOverHttp("type=tracker_created&type=session_*"));

        foreach (var protocol in new[] { WireProtocol.Json, WireProtocol.MessagePack })
        {
            await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress, protocol);
            var viaHub = await client.Connection.InvokeAsync<LiveState>(EventHubMethods.GetState,
                new StreamEventsRequest { Projects = ["ao"] }).WithTimeout();
            Assert.Equal(state.GetProperty("offset").GetString(), viaHub.Offset);
            Assert.Equal(kinds, viaHub.Entities.Select(e => ((string?)e.Kind, e.Key, (string?)e.Event.Type)));
            Assert.Equal(["tracker_created"], viaHub.UnkeyedTypes);
            Assert.Equal(keys.OrderBy(k => k.Key), viaHub.EntityKeys.Select(k => KeyValuePair.Create(k.Key, ((string?)k.Value.Kind, string.Join(",", k.Value.Fields)))).OrderBy(k => k.Key));
            var sessionsOnly = await client.Connection.InvokeAsync<LiveState>(EventHubMethods.GetState,
                new StreamEventsRequest { Projects = ["ao"], Types = ["session_*"] }).WithTimeout();
            Assert.Empty(sessionsOnly.UnkeyedTypes);
        }
    }

    [Fact]
    public async Task The_state_survives_retention_and_is_authorized_like_the_stream()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("a");
        await db.Writer.ProjectAsync("b");
        for (var i = 1; i <= 20; i++) await db.Writer.SessionAsync("a", i);
        await db.Writer.SessionAsync("b", 1);
        var settings = TestTokens.TokenModeSettings();
        settings["Retention:MaxEvents"] = "5";
        settings["Retention:Interval"] = "00:00:00.500"; // rows are prunable once a tick holds them
        await using var hub = await HubServer.StartAsync(db.ConnectionString, settings);
        await TaskTimeouts.UntilAsync(() => db.ChangeLogCountAsync().GetAwaiter().GetResult() <= 5, because: "retention did not prune");

        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint(["a"]));
        var state = await http.GetFromJsonAsync<JsonElement>("/api/v1/state").WithTimeout();
        // Every session of a, though the log keeps 5 events; none of b, which the token may not read.
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"[\"a-{i}\"]").Order(),
            state.GetProperty("entities").EnumerateArray().Select(e => e.GetProperty("key").GetRawText()).Order());
        var forbidden = await http.GetAsync("/api/v1/state?project=b").WithTimeout();
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("forbidden_project", JsonDocument.Parse(await forbidden.Content.ReadAsStringAsync()).RootElement
            .GetProperty("error").GetProperty("code").GetString());
        http.DefaultRequestHeaders.Authorization = null;
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/state").WithTimeout()).StatusCode);
    }

    /// <summary>
    /// The key table follows configuration from start to start, and the state follows the key
    /// table (migration 0027): a type keyed after its events were written has them in the state, a
    /// key whose kind changed leaves no entity under the old one (even when the entity's event was
    /// pruned and lives on in the state's durable base alone), and a key taken out of configuration
    /// takes its entities out and lists the type as unkeyed again.
    /// </summary>
    [Fact]
    public async Task A_key_added_changed_or_removed_in_configuration_refolds_the_state_from_the_base_and_the_log()
    {
        await using var db = await TestDatabase.CreateAsync();
        async Task<JsonElement> StateAsync(HubServer hub)
        {
            using var http = new HttpClient { BaseAddress = hub.BaseAddress };
            await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // every write so far is in a tick
            return await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        }
        static string[] Entities(JsonElement state) => state.GetProperty("entities").EnumerateArray()
            .Select(e => $"{e.GetProperty("kind").GetString()} {e.GetProperty("key").GetRawText()} v{e.GetProperty("event").GetProperty("payload").GetProperty("v").GetInt32()}")
            .Order(StringComparer.Ordinal).ToArray();
        static string[] Unkeyed(JsonElement state) => state.GetProperty("unkeyedTypes").EnumerateArray().Select(t => t.GetString()!).ToArray();

        // T1's event is pruned by retention: from then on it lives in the state's base alone.
        await using (var first = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["State:EntityKeys:tracker_created:Kind"] = "tracker",
            ["State:EntityKeys:tracker_created:Fields:0"] = "id",
            ["Retention:MaxEvents"] = "3",
            ["Retention:Interval"] = "00:00:00.500",
        }))
        {
            await db.Writer.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('ao', 'tracker_created', '{\"id\":\"T1\",\"v\":1}')");
            await db.Writer.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload) VALUES
                    ('ao', 'tracker_misc', '{"id":"M1","v":1}'),
                    ('ao', 'tracker_misc', '{"id":"M1","v":2}'),
                    ('ao', 'tracker_misc', '{"id":"M2","v":1}')
                """);
            async Task<long> TrackerCreatedRowsAsync()
            {
                await using var c = await db.DataSource.OpenConnectionAsync();
                return await c.ExecuteScalarAsync<long>("SELECT count(*) FROM change_log WHERE event_type = 'tracker_created'");
            }
            await TaskTimeouts.UntilAsync(() => TrackerCreatedRowsAsync().GetAwaiter().GetResult() == 0, because: "retention did not prune T1's event");
            var before = await StateAsync(first);
            Assert.Equal(["tracker [\"T1\"] v1"], Entities(before));
            Assert.Equal(["tracker_misc"], Unkeyed(before));
        }

        // tracker_created's kind changes and tracker_misc gets a key.
        await using (var second = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["State:EntityKeys:tracker_created:Kind"] = "tracker2",
            ["State:EntityKeys:tracker_created:Fields:0"] = "id",
            ["State:EntityKeys:tracker_misc:Kind"] = "misc",
            ["State:EntityKeys:tracker_misc:Fields:0"] = "id",
        }))
        {
            var rekeyed = await StateAsync(second);
            Assert.Equal(["misc [\"M1\"] v2", "misc [\"M2\"] v1", "tracker2 [\"T1\"] v1"], Entities(rekeyed));
            Assert.Empty(Unkeyed(rekeyed));
            await db.Writer.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('ao', 'tracker_created', '{\"id\":\"T1\",\"v\":9}')");
            Assert.Equal(["misc [\"M1\"] v2", "misc [\"M2\"] v1", "tracker2 [\"T1\"] v9"], Entities(await StateAsync(second)));
        }

        // Both keys taken out of configuration: the built-in keys only, the types unkeyed again.
        await using var third = await HubServer.StartAsync(db.ConnectionString);
        var unkeyed = await StateAsync(third);
        Assert.Empty(Entities(unkeyed));
        Assert.Equal(["tracker_created", "tracker_misc"], Unkeyed(unkeyed));
        Assert.Equal(8, unkeyed.GetProperty("entityKeys").EnumerateObject().Count());
    }

    /// <summary>The entity an event describes, by the contract's keys (written here independently of migration 0009).</summary>
    private static (string Kind, string Key) KeyOf(string type, JsonElement payload)
    {
        string Json(params string[] fields) => "[" + string.Join(",", fields.Select(f => payload.GetProperty(f).GetRawText())) + "]";
        return type switch
        {
            "session_created" or "session_updated" => ("session", Json("id")),
            "pr_created" or "pr_updated" or "pr_session_changed" => ("pr", Json("url")),
            "pr_check_recorded" => ("check", Json("pr", "name", "commit")),
            "pr_review_thread_added" or "pr_review_thread_resolved" => ("thread", Json("pr", "thread")),
            _ => throw new InvalidOperationException(type),
        };
    }

    /// <summary>The latest event of every entity, folding the whole log in its order.</summary>
    [Fact]
    public async Task Of_two_transactions_that_change_one_entity_in_one_tick_the_one_that_committed_last_is_the_state_whatever_their_xids()
    {
        // Found by the .NET client's end-to-end test: inside a tick rows go by (tx_id, seq), and
        // the transaction with the older xid can be the one that committed second. Folding in
        // position order kept the first commit's value; the sessions table holds the second's.
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, ObservedReader.FollowerSettings); // ticks made here
        await db.Writer.ProjectAsync("ao");
        await db.Writer.SessionAsync("ao", 1);
        await db.Writer.ExecuteAsync("SELECT eventhub_make_tick()");
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var before = (await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout()).GetProperty("offset").GetString();
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao", lastEventId: before);

        await using var b = await db.DataSource.OpenConnectionAsync();
        await using var bTx = await b.BeginTransactionAsync();
        await b.ExecuteAsync("SELECT pg_current_xact_id()", transaction: bTx); // B takes the older xid
        await using (var a = await db.DataSource.OpenConnectionAsync())
            await a.ExecuteAsync("UPDATE sessions SET activity_state = 'idle' WHERE id = 'ao-1'"); // A commits first
        await b.ExecuteAsync("UPDATE sessions SET activity_state = 'exited' WHERE id = 'ao-1'", transaction: bTx);
        await bTx.CommitAsync(); // B commits second: 'exited' is the truth
        await db.Writer.ExecuteAsync("SELECT eventhub_make_tick()"); // one tick holds both

        await using (var check = await db.DataSource.OpenConnectionAsync())
            Assert.Equal("exited", await check.QuerySingleAsync<string>("SELECT activity_state FROM sessions WHERE id = 'ao-1'"));
        var state = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        var session = state.GetProperty("entities").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "session");
        Assert.Equal("exited", session.GetProperty("event").GetProperty("payload").GetProperty("activity").GetString());

        // The stream gives B's event first (older xid), then A's; by seq a client keeps B's.
        var first = await sse.ReadEventAsync();
        var second = await sse.ReadEventAsync();
        Assert.Equal(["exited", "idle"], new[] { first, second }.Select(f => f.Payload.GetProperty("activity").GetString()));
        Assert.True(first.Json.GetProperty("seq").GetInt64() > second.Json.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task A_tick_not_yet_folded_supersedes_its_entitys_folded_row_before_the_type_filter_applies_so_the_fold_changes_no_answer()
    {
        // Found by a black-box tester: the pending tick's rows were filtered by type before they
        // could replace the folded rows, so a PR whose latest event (pr_session_changed) is pending
        // was answered with its folded pr_updated at offset O, and without it at the same O once
        // the fold ran. The hub's requests select whole kinds (StateKindFilterTests); the read
        // itself keeps the rule for any filter.
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["State:RebuildCheckInterval"] = "01:00:00", // the test folds (FoldPendingAsync), the upkeep does not
        });
        var upkeep = hub.Get<EventHub.State.LiveStateUpkeep>();
        var reader = hub.Get<EventHub.State.LiveStateReader>();
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var session = await db.Writer.SessionAsync("ao", 1);
        var other = await db.Writer.SessionAsync("ao", 2);
        var pr = await db.Writer.PrAsync(session, 1);
        await db.Writer.PrStateAsync(pr, "failing", "none", "mergeable");
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // in a tick
        await upkeep.FoldPendingAsync(); // the PR folded with its pr_updated

        await db.Writer.PrSessionAsync(pr, other);
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // in a tick, not folded
        var filter = new EventHub.Log.EventFilter(["ao"], ["pr_updated"]);
        var pending = await reader.ReadAsync(filter, CancellationToken.None).WithTimeout();
        await upkeep.FoldPendingAsync();
        var folded = await reader.ReadAsync(filter, CancellationToken.None).WithTimeout();

        Assert.Equal(pending.Offset, folded.Offset);
        Assert.Equal(folded.Entities.Select(e => e.Key), pending.Entities.Select(e => e.Key));
        Assert.Empty(pending.Entities); // the PR's latest event is not a pr_updated
    }

    private static async Task<Dictionary<string, (long Seq, string Type)>> ExpectedStateAsync(TestDatabase db)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        var rows = await c.QueryAsync<(long Seq, string Type, string Payload)>(
            "SELECT seq, event_type, payload::text FROM change_log ORDER BY eventhub_tick_of(tx_id), tx_id, seq");
        var state = new Dictionary<string, (long, string)>();
        foreach (var (seq, type, payload) in rows)
        {
            // jsonb's text spaces values as PostgreSQL does; re-serialize so keys compare as the hub writes them.
            var (kind, key) = KeyOf(type, JsonDocument.Parse(payload).RootElement);
            if (!state.TryGetValue($"{kind} {CompactJson(key)}", out var held) || held.Item1 < seq)
                state[$"{kind} {CompactJson(key)}"] = (seq, type);
        }
        return state;
    }

    private static string CompactJson(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
}
