using EventHub.Contracts;
using EventHub.SignalR;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventHub.Tests.SignalR;

/// <summary>
/// SignalR's dispatcher logged every HubException a call or a stream ended with as an Error with
/// its stack: each refused request, and every SignalR stream the hub ended at its stop. They are
/// the hub's answers, not server failures, which the hub's filter logs itself
/// (ServerErrorHubFilterSetup).
/// </summary>
public sealed class DispatcherLogTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_call_and_a_stream_the_hubs_stop_ends_log_no_error_unless_configuration_names_the_dispatcher(bool named)
    {
        await using var db = await TestDatabase.CreateAsync();
        var sink = new LogSink(); // takes every entry the hub's rules let through
        var settings = named ? new Dictionary<string, string?> { [$"Logging:LogLevel:{ServerErrorHubFilterSetup.DispatcherCategory}"] = "Error" } : null;
        await using var hub = await HubServer.StartAsync(db.ConnectionString, settings, services: s =>
        {
            s.AddSingleton<ILoggerProvider>(sink);
            // The hub's own rules, without the test hubs' rule that drops every entry (HubServer).
            s.Configure<LoggerFilterOptions>(o =>
            {
                foreach (var rule in o.Rules.Where(r => r is { ProviderName: null, CategoryName: null, Filter: not null }).ToList())
                    o.Rules.Remove(rule);
            });
        });
        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress);

        var refused = await EndingAsync(await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
            new StreamEventsRequest { Projects = ["a?b"] }).WithTimeout());
        Assert.Contains("invalid_project", Assert.IsType<HubException>(refused).Message);

        // A reset at the open (an offset of another log).
        var reset = await EndingAsync(await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
            new StreamEventsRequest { After = await ForeignLog.OffsetAsync() }).WithTimeout());
        Assert.Contains("offset_from_another_log", Assert.IsType<HubException>(reset).Message);

        // A stream the hub's stop ends: with "the server ended this stream" (a HubException), or
        // by the connection's close when that comes first.
        var stream = await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
            new StreamEventsRequest { Projects = ["p"], After = "0" }).WithTimeout();
        await db.Writer.SessionAsync("p", 1);
        await stream.ReadAsync().AsTask().WithTimeout(); // open on the hub (from the start: whether it opened before the write or after)
        await hub.DisposeAsync();
        await EndingAsync(stream);

        var errors = sink.Entries.Where(e => e.Category == ServerErrorHubFilterSetup.DispatcherCategory && e.Level >= LogLevel.Error)
            .Select(e => e.EventId.Name).ToList();
        if (named)
            Assert.Equal(2, errors.Count(e => e == "FailedInvokingHubMethod")); // and FailedStreaming when the stop's HubException came first
        else
            Assert.Empty(errors);
    }

    /// <summary>What a stream ended with (the client's channel wraps it).</summary>
    private static async Task<Exception?> EndingAsync(System.Threading.Channels.ChannelReader<ChangeEvent> stream)
    {
        var error = await Record.ExceptionAsync(async () => { while (true) await stream.ReadAsync().AsTask().WithTimeout(); });
        Assert.IsNotType<TimeoutException>(error);
        return error is System.Threading.Channels.ChannelClosedException closed ? closed.InnerException : error;
    }
}
