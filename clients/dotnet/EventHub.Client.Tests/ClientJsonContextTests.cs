using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client.Tests;

/// <summary>
/// The client's generated JSON metadata covers what it sends and receives over SignalR's JSON
/// protocol. The options here have no reflection fallback (as an application with reflection-based
/// JSON off), so a type without metadata throws. The stream and the reset item are covered end to
/// end by CliProcessTests; the state request is not, the tool has no state command: this covers it.
/// </summary>
public sealed class ClientJsonContextTests
{
    // SignalR's JSON protocol defaults (camelCase, case-insensitive reads), with the client's resolver only.
    private static readonly JsonSerializerOptions ReflectionFree = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(ClientJsonContext.Default),
    };

    [Fact]
    public void The_state_request_and_the_state_answer_cross_without_reflection()
    {
        var request = new StreamEventsRequest { Projects = ["ao"], Types = ["pr_*"] };
        var sent = JsonSerializer.SerializeToElement(request, ReflectionFree);
        Assert.Equal(["ao"], sent.GetProperty("projects").EnumerateArray().Select(e => e.GetString()));

        const string answer = """
            {"offset":"7.42","entities":[{"kind":"pr","key":"[\"ao\",12]","event":{"seq":5,"projectId":"ao","sessionId":"ao-1",
            "type":"pr_updated","payload":{"prNumber":12},"createdAt":"2026-12-06T10:00:00Z","offset":"7.40"}}],
            "unkeyedTypes":["custom"],"entityKeys":{"pr_updated":{"kind":"pr","fields":["projectId","prNumber"]}}}
            """;
        var state = JsonSerializer.Deserialize<LiveState>(answer, ReflectionFree)!;

        Assert.Equal("7.42", state.Offset);
        var entity = Assert.Single(state.Entities);
        Assert.Equal(("pr", "pr_updated", 12), (entity.Kind, entity.Event.Type, entity.Event.Payload.GetProperty("prNumber").GetInt32()));
        Assert.Equal(new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero), entity.Event.CreatedAt);
        Assert.Equal(["custom"], state.UnkeyedTypes);
        Assert.Equal(["projectId", "prNumber"], state.EntityKeys["pr_updated"].Fields);
        Assert.Equal("7.40", JsonSerializer.Deserialize<string>("\"7.40\"", ReflectionFree)); // the head offset
    }
}
