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
/// its stack: each refused request, and every SignalR stream the hub ended at its stop; its
/// connection handler did the same for each connection a connection limit refused. They are the
/// hub's answers, not server failures, which the hub's filter logs itself (ServerErrorHubFilterSetup).
/// </summary>
public sealed class DispatcherLogTests
{
    /// <summary>The logging configuration of each case.</summary>
    public enum Logging
    {
        /// <summary>The hub's defaults.</summary>
        Default,
        /// <summary><c>Logging:LogLevel:&lt;category&gt;</c> for the dispatcher and the connection handler: their Errors are back.</summary>
        Named,
        /// <summary>
        /// Rules of the log's provider (<c>Logging:&lt;provider&gt;:LogLevel:Default</c>, as a
        /// deployment sets <c>Logging:Console:LogLevel</c>): they win over every rule without a
        /// provider, and had the dispatcher's Errors back although nothing named it.
        /// </summary>
        ProviderRules,
    }

    [Theory]
    [InlineData(Logging.Default)]
    [InlineData(Logging.Named)]
    [InlineData(Logging.ProviderRules)]
    public async Task A_refused_call_a_refused_connection_and_a_stream_the_hubs_stop_ends_log_no_error_unless_configuration_names_the_category(Logging logging)
    {
        await using var db = await TestDatabase.CreateAsync();
        var sink = new LogSink(); // takes every entry the hub's rules let through
        var settings = logging switch
        {
            Logging.Named => new Dictionary<string, string?>
            {
                [$"Logging:LogLevel:{ServerErrorHubFilterSetup.DispatcherCategory}"] = "Error",
                [$"Logging:LogLevel:{ServerErrorHubFilterSetup.ConnectionHandlerCategory}"] = "Error",
            },
            Logging.ProviderRules => new Dictionary<string, string?> { [$"Logging:{typeof(LogSink).FullName}:LogLevel:Default"] = "Information" },
            _ => [],
        };
        settings["Limits:MaxConnectionsPerAddress"] = "1"; // the test's client's connection, then a refused one
        var named = logging == Logging.Named;
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

        // A connection past the limit: OnConnectedAsync's HubException closes it, naming the limit.
        Assert.Contains("too_many_connections_per_address", await EventHub.Tests.Auth.LimitsAndCorsTests.ConnectAndWaitForCloseAsync(hub.BaseAddress));

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
        var connectionErrors = sink.Entries.Where(e => e.Category == ServerErrorHubFilterSetup.ConnectionHandlerCategory && e.Level >= LogLevel.Error)
            .Select(e => e.EventId.Name).ToList();
        if (named)
        {
            Assert.Equal(2, errors.Count(e => e == "FailedInvokingHubMethod")); // and FailedStreaming when the stop's HubException came first
            Assert.Equal(["ErrorDispatchingHubEvent"], connectionErrors);
        }
        else
        {
            Assert.Empty(errors);
            Assert.Empty(connectionErrors);
        }
        // The hub's own record of the refusal (StreamPolicy, 4310), whatever the configuration.
        Assert.Contains(sink.Entries, e => e.EventId.Id == 4310 && e.Message.Contains("too_many_connections_per_address", StringComparison.Ordinal));
    }

    /// <summary>What a stream ended with (the client's channel wraps it).</summary>
    private static async Task<Exception?> EndingAsync(System.Threading.Channels.ChannelReader<ChangeEvent> stream)
    {
        var error = await Record.ExceptionAsync(async () => { while (true) await stream.ReadAsync().AsTask().WithTimeout(); });
        Assert.IsNotType<TimeoutException>(error);
        return error is System.Threading.Channels.ChannelClosedException closed ? closed.InnerException : error;
    }
}

/// <summary>Which rules <see cref="ServerErrorHubFilterSetup.Silence"/> adds to configuration's.</summary>
public sealed class DispatcherLogRuleTests
{
    private const string Category = ServerErrorHubFilterSetup.DispatcherCategory;

    private static List<(string? Provider, string? Category, LogLevel? Level)> Added(params LoggerFilterRule[] configured)
    {
        var options = new LoggerFilterOptions();
        foreach (var rule in configured) options.Rules.Add(rule);
        ServerErrorHubFilterSetup.Silence(options, Category);
        return options.Rules.Skip(configured.Length).Select(r => (r.ProviderName, r.CategoryName, r.LogLevel)).ToList();
    }

    [Fact]
    public void Without_rules_one_rule_for_every_provider_drops_the_dispatchers_entries() =>
        Assert.Equal([(null, Category, LogLevel.None)], Added());

    [Fact]
    public void Each_provider_with_rules_of_its_own_gets_the_rule_too_unless_its_rules_name_the_category() =>
        Assert.Equal([(null, Category, LogLevel.None), ("Console", Category, LogLevel.None)], Added(
            new LoggerFilterRule(null, "Microsoft.AspNetCore", LogLevel.Warning, null),
            new LoggerFilterRule("Console", null, LogLevel.Information, null),
            new LoggerFilterRule("Console", "Microsoft", LogLevel.Warning, null),
            new LoggerFilterRule("OpenTelemetry", "Microsoft.AspNetCore.SignalR", LogLevel.Debug, null)));

    [Theory]
    [InlineData(Category)]
    [InlineData("Microsoft.AspNetCore.SignalR")]
    [InlineData("microsoft.aspnetcore.signalr.internal")]
    public void Configuration_that_names_the_category_or_SignalRs_for_every_provider_keeps_them(string named) =>
        Assert.Empty(Added(new LoggerFilterRule(null, named, LogLevel.Error, null), new LoggerFilterRule("Console", null, LogLevel.Information, null)));

    [Fact]
    public void Naming_the_dispatchers_namespace_keeps_its_entries_and_not_the_connection_handlers()
    {
        var options = new LoggerFilterOptions();
        options.Rules.Add(new LoggerFilterRule(null, "Microsoft.AspNetCore.SignalR.Internal", LogLevel.Error, null));
        foreach (var category in ServerErrorHubFilterSetup.SilencedCategories) ServerErrorHubFilterSetup.Silence(options, category);
        Assert.Equal([(null, ServerErrorHubFilterSetup.ConnectionHandlerCategory, LogLevel.None)],
            options.Rules.Skip(1).Select(r => (r.ProviderName, r.CategoryName, r.LogLevel)).ToList());
    }
}
