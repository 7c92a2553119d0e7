using System.Net.Http.Json;
using System.Text.Json;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.State;

/// <summary>
/// The hub method <c>StreamState</c>: the state of <c>GetState</c> in pages, over both protocols,
/// every field as <c>GET /api/v1/state</c> gives it; refused and limited like a stream.
/// </summary>
public sealed class StatePagesTests
{
    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task The_pages_cut_GetStates_answer_in_order_and_both_carry_every_field_of_the_HTTP_state(WireProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync($"pages_{protocol}");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["SignalR:StatePageEntities"] = "3",
        });
        await db.Writer.ProjectAsync("ao");
        for (var i = 1; i <= 5; i++) await db.Writer.SessionAsync("ao", i);
        var pr = await db.Writer.PrAsync("ao-1", 7);
        await db.Writer.PrStateAsync(pr, "passing", "approved", "mergeable");
        await db.Writer.CheckAsync(pr, "build", "c1", "passed");
        await db.Writer.ThreadAsync(pr, "t1", "src/ü<&>.cs", 12);
        await db.Writer.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('ao', 'tracker_created', '{\"issue\":\"I-1\"}')");
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // every write above is in a tick
        var expected = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        var expectedEntities = expected.GetProperty("entities").EnumerateArray().ToList();
        Assert.Equal(8, expectedEntities.Count); // 5 sessions, a PR, a check, a thread

        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress, protocol);
        var request = new StreamEventsRequest { Projects = ["ao"] };
        var whole = await client.Connection.InvokeAsync<LiveState>(EventHubMethods.GetState, request).WithTimeout();
        var pages = await ReadPagesAsync(client.Connection, request);

        Assert.Equal([3, 3, 2], pages.Select(p => p.Entities.Count));
        Assert.All(pages, p => Assert.Equal(expected.GetProperty("offset").GetString(), p.Offset));
        Assert.Equal(expected.GetProperty("offset").GetString(), whole.Offset);
        // The header comes once, on the first page; the count on the last.
        Assert.Equal(["tracker_created"], pages[0].UnkeyedTypes!);
        Assert.Equal(whole.EntityKeys.Keys.Order(), pages[0].EntityKeys!.Keys.Order());
        Assert.Equal(["tracker_created"], whole.UnkeyedTypes);
        Assert.All(pages.Skip(1), p => Assert.True(p.UnkeyedTypes is null && p.EntityKeys is null));
        Assert.Equal([null, null, 8], pages.Select(p => p.EntityCount));

        // Both answers hold every entity with every field of its event (each in its own order:
        // GetState's is sorted, the pages come in the HTTP state's order, which is none in particular).
        var wanted = expectedEntities.OrderBy(e => e.GetProperty("key").GetRawText(), StringComparer.Ordinal).ToList();
        foreach (var answer in new[] { whole.Entities, pages.SelectMany(p => p.Entities).ToList() })
        {
            var entities = answer.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            Assert.Equal(wanted.Count, entities.Count);
            for (var i = 0; i < entities.Count; i++)
            {
                var want = wanted[i];
                var got = entities[i];
                Assert.Equal(want.GetProperty("kind").GetString(), got.Kind);
                Assert.Equal(want.GetProperty("key").GetRawText(), got.Key);
                var e = want.GetProperty("event");
                Assert.Equal(e.GetProperty("seq").GetInt64(), got.Event.Seq);
                Assert.Equal(e.GetProperty("projectId").GetString(), got.Event.ProjectId);
                Assert.Equal(e.GetProperty("sessionId").GetString(), got.Event.SessionId);
                Assert.Equal(e.GetProperty("type").GetString(), got.Event.Type);
                Assert.Equal(e.GetProperty("offset").GetString(), got.Event.Offset);
                Assert.Equal(e.GetProperty("createdAt").GetDateTimeOffset(), got.Event.CreatedAt);
                Assert.True(JsonElement.DeepEquals(e.GetProperty("payload"), got.Event.Payload),
                    $"payload of {got.Key}: {got.Event.Payload} against {e.GetProperty("payload")}");
            }
        }
    }

    [Fact]
    public async Task An_empty_state_is_one_page_and_a_refusal_or_a_full_connection_fails_the_stream_with_its_code()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("a");
        await db.Writer.ProjectAsync("b");
        var settings = TestTokens.TokenModeSettings();
        settings["Limits:MaxStreamsPerConnection"] = "1";
        await using var hub = await HubServer.StartAsync(db.ConnectionString, settings);
        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress, accessToken: () => Task.FromResult<string?>(TestTokens.Mint(["a", "b"])));

        var empty = await ReadPagesAsync(client.Connection, new StreamEventsRequest { Projects = ["a"] });
        var page = Assert.Single(empty);
        Assert.Equal(0, page.EntityCount);
        Assert.Empty(page.Entities);
        Assert.NotNull(page.EntityKeys);

        await using var narrow = await EventsHubClient.ConnectAsync(hub.BaseAddress, accessToken: () => Task.FromResult<string?>(TestTokens.Mint(["a"])));
        var forbidden = await Assert.ThrowsAsync<HubException>(() => ReadPagesAsync(narrow.Connection, new StreamEventsRequest { Projects = ["b"] }));
        Assert.Contains("forbidden_project: ", forbidden.Message);

        // Counted as a stream while it runs: with an event stream open, the connection is full.
        using var stop = new CancellationTokenSource();
        var events = await client.StreamAsync(["a"], cancellationToken: stop.Token);
        var full = await Assert.ThrowsAsync<HubException>(() => ReadPagesAsync(client.Connection, new StreamEventsRequest { Projects = ["a"] }));
        Assert.Contains("too_many_streams: ", full.Message);
        await stop.CancelAsync();
        await events.EndAsync();
        // The cancelled event stream frees its slot when its pump ends; then state streams one after
        // the other each find the slot free (each frees it before its end reaches the client).
        await TaskTimeouts.UntilAsync(async () =>
        {
            try
            {
                await ReadPagesAsync(client.Connection, new StreamEventsRequest { Projects = ["a"] });
                return true;
            }
            catch (HubException e) when (e.Message.Contains("too_many_streams"))
            {
                return false;
            }
        }, because: "the cancelled event stream's slot was not freed");
        for (var i = 0; i < 3; i++) Assert.Single(await ReadPagesAsync(client.Connection, new StreamEventsRequest { Projects = ["a"] }));
    }

    private static async Task<List<LiveStatePage>> ReadPagesAsync(HubConnection connection, StreamEventsRequest request)
    {
        using var bound = new CancellationTokenSource(TaskTimeouts.Default);
        var pages = new List<LiveStatePage>();
        await foreach (var page in connection.StreamAsync<LiveStatePage>(EventHubMethods.StreamState, request, bound.Token))
            pages.Add(page);
        return pages;
    }
}
