using EventHub.Contracts;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.SignalR;

public sealed partial class EventsHubTests
{
    public static TheoryData<string, WireProtocol> BadRequests => new()
    {
        { "malformed offset", WireProtocol.Json },
        { "malformed offset", WireProtocol.MessagePack },
        { "offset of another log", WireProtocol.Json },
        { "offset with an epoch no log has", WireProtocol.Json },
        { "offset beyond the log", WireProtocol.Json },
        { "empty project id", WireProtocol.Json },
        { "oversized project id", WireProtocol.Json },
        { "too many projects", WireProtocol.Json },
        { "too many types", WireProtocol.MessagePack },
        { "invalid type", WireProtocol.Json },
        { "null request", WireProtocol.Json },
        { "null request", WireProtocol.MessagePack },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_fails_with_a_readable_HubException_and_the_connections_other_stream_goes_on(
        string problem, WireProtocol protocol)
    {
        var epoch = await fixture.Db.EpochAsync();
        (StreamEventsRequest? request, string code, string says) = problem switch
        {
            "malformed offset" => (Request(after: "not-an-offset"), StreamErrorCodes.InvalidOffset, "is not an offset"),
            "offset of another log" => (Request(after: $"{(epoch == "0123456789" ? "abcdef0123" : "0123456789")}.5.5"),
                ResetReasons.ForeignLog, "belongs to another log"),
            "offset with an epoch no log has" => (Request(after: "otherlog.5.5"), StreamErrorCodes.InvalidOffset, "is not an offset"),
            "offset beyond the log" => (Request(after: $"{epoch}-zzzzzz-zzzz"), StreamErrorCodes.OffsetOutOfRange, "beyond"),
            "empty project id" => (Request([""]), StreamErrorCodes.InvalidProject, "must not be empty"),
            "oversized project id" => (Request([new string('p', 129)]), StreamErrorCodes.InvalidProject, "at most 128 characters"),
            "too many projects" => (Request(Enumerable.Range(0, 101).Select(i => $"p{i}").ToArray()), StreamErrorCodes.TooManyProjects, "At most 100 projects"),
            "too many types" => (Request(types: Enumerable.Range(0, 51).Select(i => $"t{i}").ToArray()), StreamErrorCodes.TooManyTypes, "At most 50 types"),
            "invalid type" => (Request(types: ["pr updated"]), StreamErrorCodes.InvalidType, "is not an event type"),
            "null request" => ((StreamEventsRequest?)null, StreamErrorCodes.MissingRequest, "needs a request"),
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };

        var p = fixture.NewProject();
        await using var client = await EventsHubClient.ConnectAsync(Hub, protocol);
        var healthy = await client.StreamAsync([p], after: StreamEventsRequest.Beginning);

        var bad = await client.StreamAsync(request);
        var error = await bad.FailureAsync();
        Assert.Contains($"{code}:", error.Message);
        Assert.Contains(says, error.Message);

        await Writer.SessionAsync(p, 1);
        Assert.Equal($"{p}-1", (await healthy.ReadAsync()).SessionId);
        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
    }

    [Fact]
    public async Task A_call_without_a_request_fails_with_a_HubException_and_the_connection_goes_on()
    {
        var p = fixture.NewProject();
        await using var client = await EventsHubClient.ConnectAsync(Hub);
        var healthy = await client.StreamAsync([p], after: StreamEventsRequest.Beginning);

        var reader = await client.Connection.StreamAsChannelCoreAsync(EventHubMethods.StreamEvents, typeof(ChangeEvent), [])
            .WithTimeout();
        var error = await Assert.ThrowsAsync<HubException>(() => reader.Completion.WithTimeout());
        Assert.Contains("Invocation provides 0 argument(s) but target expects 1", error.Message);

        await Writer.SessionAsync(p, 1);
        Assert.Equal($"{p}-1", (await healthy.ReadAsync()).SessionId);
    }

    private static StreamEventsRequest Request(string[]? projects = null, string[]? types = null, string? after = null) =>
        new() { Projects = projects, Types = types, After = after };
}
