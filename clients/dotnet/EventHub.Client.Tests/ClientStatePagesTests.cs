using System.Net.Http.Json;
using System.Text.Json;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventHub.Client.Tests;

/// <summary>
/// <see cref="EventHubClient.GetStateAsync"/> reads the state as the hub's <c>StreamState</c> pages:
/// against the real hub (pages of two entities, both protocols) it is the HTTP state; against
/// small SignalR hubs of the test's own it takes the pages (not <c>GetState</c>), falls back to
/// <c>GetState</c> on a hub without <c>StreamState</c>, and never returns a state cut short.
/// </summary>
public sealed class ClientStatePagesTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task The_state_read_in_pages_is_the_HTTP_state(EventHubProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync($"client_pages_{protocol}");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["SignalR:StatePageEntities"] = "2",
        });
        await db.Writer.ProjectAsync("ao");
        for (var i = 1; i <= 6; i++) await db.Writer.SessionAsync("ao", i);
        var pr = await db.Writer.PrAsync("ao-2", 3);
        await db.Writer.CheckAsync(pr, "build", "c1", "failed");
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // every write above is in a tick
        var expected = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();

        await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = hub.BaseAddress, Projects = ["ao"], Protocol = protocol });
        var state = await client.GetStateAsync().WithTimeout();

        Assert.Equal(expected.GetProperty("offset").GetString(), state.Offset);
        Assert.Equal(8, state.Entities.Count); // four pages
        Assert.Equal(
            expected.GetProperty("entities").EnumerateArray().Select(e => (e.GetProperty("key").GetRawText(), e.GetProperty("event").GetProperty("offset").GetString())).Order(),
            state.Entities.Select(e => (e.Key, (string?)e.Event.Offset)).Order());
        Assert.Equal("failed", state.Entities.Single(e => e.Kind == "check").Event.Payload.GetProperty("status").GetString());
        Assert.Equal(8, state.EntityKeys.Count); // the built-in keyed types
    }

    [Fact]
    public async Task The_client_takes_the_pages_falls_back_to_GetState_on_an_older_hub_and_never_returns_a_state_cut_short()
    {
        await using (var paged = await TestHub<PagedHub>.StartAsync())
        {
            await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = paged.Url });
            var state = await client.GetStateAsync().WithTimeout();
            Assert.Equal("s1", state.Offset);
            Assert.Equal(["a", "b", "c"], state.Entities.Select(e => e.Key));
            Assert.Equal(["tracker_created"], state.UnkeyedTypes);
            Assert.Equal("session", state.EntityKeys["session_created"].Kind);
        }

        await using (var older = await TestHub<OlderHub>.StartAsync())
        {
            await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = older.Url });
            var state = await client.GetStateAsync().WithTimeout();
            Assert.Equal("s0", state.Offset);
            Assert.Equal(["old"], state.Entities.Select(e => e.Key));
        }

        await using (var short_ = await TestHub<ShortHub>.StartAsync())
        {
            await using var client = new EventHubClient(new EventHubClientOptions
            {
                HubUrl = short_.Url, ReconnectPolicy = new GiveUpAfter(2),
            });
            var error = await Assert.ThrowsAsync<EventHubConnectionException>(() => client.GetStateAsync().WithTimeout());
            Assert.Contains("with 2 entities where its last page counts 3", error.InnerException!.Message);
        }
    }

    private static LiveEntity Entity(string key) => new()
    {
        Kind = "session", Key = key,
        Event = new ChangeEvent { Seq = 1, ProjectId = "ao", Type = "session_created", Payload = JsonDocument.Parse("{}").RootElement, Offset = "o-" + key },
    };

    /// <summary>Answers StreamState in pages; GetState fails, so a client that calls it fails the test.</summary>
    private sealed class PagedHub : Hub
    {
        public LiveState GetState(StreamEventsRequest request) => throw new HubException("GetState is not for this client.");

        public async IAsyncEnumerable<LiveStatePage> StreamState(StreamEventsRequest request)
        {
            yield return new LiveStatePage
            {
                Offset = "s1", Entities = [Entity("a"), Entity("b")], UnkeyedTypes = ["tracker_created"],
                EntityKeys = new Dictionary<string, LiveEntityKey> { ["session_created"] = new() { Kind = "session", Fields = ["id"] } },
            };
            await Task.Yield();
            yield return new LiveStatePage { Offset = "s1", Entities = [Entity("c")], EntityCount = 3 };
        }
    }

    /// <summary>A hub from before StreamState: the state in one message.</summary>
    private sealed class OlderHub : Hub
    {
        public LiveState GetState(StreamEventsRequest request) => new() { Offset = "s0", Entities = [Entity("old")] };
    }

    /// <summary>Pages whose last one counts more entities than they hold.</summary>
    private sealed class ShortHub : Hub
    {
        public async IAsyncEnumerable<LiveStatePage> StreamState(StreamEventsRequest request)
        {
            await Task.Yield();
            yield return new LiveStatePage { Offset = "s2", Entities = [Entity("a"), Entity("b")], EntityCount = 3 };
        }
    }

    private sealed class GiveUpAfter(int attempts) : IEventHubReconnectPolicy
    {
        public TimeSpan? NextDelay(EventHubReconnectContext context) => context.Attempt > attempts ? null : TimeSpan.FromMilliseconds(10);
    }

    /// <summary>A Kestrel server on a loopback port with one SignalR hub at the hub's path.</summary>
    private sealed class TestHub<THub> : IAsyncDisposable where THub : Hub
    {
        private readonly WebApplication _app;

        private TestHub(WebApplication app, Uri url)
        {
            _app = app;
            Url = url;
        }

        public Uri Url { get; }

        public static async Task<TestHub<THub>> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Services.AddSignalR(); // detailed errors off: the client still recognises a missing method
            var app = builder.Build();
            app.MapHub<THub>(EventHubPaths.Events);
            await app.StartAsync().WithTimeout();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new TestHub<THub>(app, new Uri(new Uri(address), EventHubPaths.Events));
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
