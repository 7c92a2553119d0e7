using System.Diagnostics;
using EventHub.Client;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Bench;

/// <summary>One way of fetching the state: time from the request to the whole answer read, in ms.</summary>
public sealed record StateWayResult(string Way, int Requests, int Entities, double P50Ms, double P90Ms, double MaxMs, double MeanMs);

public sealed partial class BenchRun
{
    /// <summary>
    /// The same state fetched the ways a client can (issue 15's "hub method with the same meaning"),
    /// one request of each way in turn so that the machine's moods fall on all of them alike: HTTP,
    /// the .NET client's <see cref="EventHubClient.GetStateAsync"/> over both protocols (the hub's
    /// StreamState pages, a new connection per request), and GetState answered in one message on a
    /// new connection per request (how the .NET client fetched it before StreamState).
    /// </summary>
    private async Task StateWaysAsync(int rounds)
    {
        var hub = new Uri(_hub.BaseUri, EventHubPaths.Events);
        using var http = new HttpClient { BaseAddress = _hub.BaseUri, Timeout = TimeSpan.FromSeconds(60) };
        await using var clientJson = new EventHubClient(new EventHubClientOptions { HubUrl = hub, Projects = [StateProject] });
        await using var clientMessagePack = new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub, Projects = [StateProject], Protocol = EventHubProtocol.MessagePack,
        });
        var request = new StreamEventsRequest { Projects = [StateProject] };
        async Task<int> OneMessage(bool messagePack)
        {
            var builder = new HubConnectionBuilder().WithUrl(hub);
            if (messagePack) builder.AddMessagePackProtocol(o => o.SerializerOptions = EventHubMessagePack.Options);
            await using var connection = builder.Build();
            await connection.StartAsync();
            return (await connection.InvokeAsync<LiveState>(EventHubMethods.GetState, request)).Entities.Count;
        }
        var ways = new (string Name, Func<Task<int>> Fetch)[]
        {
            ("HTTP GET /api/v1/state", async () =>
            {
                var body = await http.GetByteArrayAsync($"/api/v1/state?project={StateProject}");
                using var doc = System.Text.Json.JsonDocument.Parse(body);
                return doc.RootElement.GetProperty("entities").GetArrayLength();
            }),
            (".NET client GetStateAsync, JSON (StreamState pages)", async () => (await clientJson.GetStateAsync()).Entities.Count),
            (".NET client GetStateAsync, MessagePack (StreamState pages)", async () => (await clientMessagePack.GetStateAsync()).Entities.Count),
            ("GetState in one message, JSON (new connection each)", () => OneMessage(false)),
            ("GetState in one message, MessagePack (new connection each)", () => OneMessage(true)),
        };
        var times = ways.Select(_ => new List<double>()).ToArray();
        var entities = new int[ways.Length];
        for (var round = 0; round <= rounds; round++) // round 0 warms each way up and is not counted
            for (var w = 0; w < ways.Length; w++)
            {
                var t0 = Stopwatch.GetTimestamp();
                entities[w] = await ways[w].Fetch();
                if (round > 0) times[w].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        for (var w = 0; w < ways.Length; w++)
        {
            var t = times[w];
            t.Sort();
            double P(double q) => t[Math.Min(t.Count - 1, (int)Math.Ceiling(q * t.Count) - 1)];
            var result = new StateWayResult(ways[w].Name, t.Count, entities[w], Math.Round(P(0.5), 1), Math.Round(P(0.9), 1),
                Math.Round(t[^1], 1), Math.Round(t.Average(), 1));
            _r.StateWays.Add(result);
            Log($"state ways: {result.Way}: p50 {result.P50Ms} ms, p90 {result.P90Ms} ms, max {result.MaxMs} ms ({result.Entities:N0} entities)");
        }
    }
}
