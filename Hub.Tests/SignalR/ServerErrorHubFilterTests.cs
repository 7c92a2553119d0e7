using EventHub.SignalR;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace EventHub.Tests.SignalR;

/// <summary>
/// The filter is the record of OnDisconnectedAsync's failures: SignalR's connection handler, which
/// logged them, is silenced by default (ServerErrorHubFilterSetup).
/// </summary>
public sealed class ServerErrorHubFilterTests
{
    [Fact]
    public async Task A_failure_of_OnDisconnectedAsync_is_logged_with_its_connection_and_goes_on_to_SignalR()
    {
        var sink = new LogSink();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(sink));
        var failure = new InvalidOperationException("the groups could not be left");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => DisconnectAsync(loggers, "c-1", Task.FromException(failure)));

        Assert.Same(failure, thrown);
        var entry = Assert.Single(sink.Entries, e => e.EventId.Id == 9002);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.True(entry.Contains("OnDisconnectedAsync") && entry.Contains("c-1") && entry.Contains("the groups could not be left"), entry.ToString());
    }

    [Fact]
    public async Task An_OnDisconnectedAsync_that_completes_logs_nothing()
    {
        var sink = new LogSink();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(sink));
        await DisconnectAsync(loggers, "c-2", Task.CompletedTask);
        Assert.Empty(sink.Entries);
    }

    /// <summary>The filter's OnDisconnectedAsync for connection <paramref name="connectionId"/>, the hub's own ending as <paramref name="hubEnds"/>.</summary>
    private static Task DisconnectAsync(ILoggerFactory loggers, string connectionId, Task hubEnds) =>
        new ServerErrorHubFilter(loggers.CreateLogger<ServerErrorHubFilter>()).OnDisconnectedAsync(
            new HubLifetimeContext(new Caller(connectionId), EmptyServices.Instance, new NoHub()), null, (_, _) => hubEnds);

    private sealed class NoHub : Hub;

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();
        public object? GetService(Type serviceType) => null;
    }

    private sealed class Caller(string connectionId) : HubCallerContext
    {
        public override string ConnectionId => connectionId;
        public override string? UserIdentifier => null;
        public override System.Security.Claims.ClaimsPrincipal? User => null;
        public override IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();
        public override Microsoft.AspNetCore.Http.Features.IFeatureCollection Features { get; } = new Microsoft.AspNetCore.Http.Features.FeatureCollection();
        public override CancellationToken ConnectionAborted => CancellationToken.None;
        public override void Abort() { }
    }
}
