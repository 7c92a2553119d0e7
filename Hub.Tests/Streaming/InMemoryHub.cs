using EventHub.Log;
using EventHub.Streaming;
using EventHub.Streaming.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventHub.Tests.Streaming;

/// <summary>The stream source and the tail wired to in-memory seams (no database, no server).</summary>
internal sealed class InMemoryHub : IAsyncDisposable
{
    public InMemoryChangeLog Log { get; } = new();
    public WakeupSignal Wakeup { get; } = new();
    public ProjectFanout Fanout { get; } = new();
    public RecentEventsWindow Window { get; }
    public ChangeLogTail Tail { get; }
    public EventStreamSource Source { get; }

    /// <param name="wrapReader">Wraps the in-memory log as the tail and the streams see it (fault seams).</param>
    public InMemoryHub(Action<StreamOptions>? configure = null, Func<IChangeLogReader, IChangeLogReader>? wrapReader = null)
    {
        var reader = wrapReader?.Invoke(Log) ?? Log;
        Log.Ticked += Wakeup.Signal; // as the ticker's NOTIFY wakes the tail
        var settings = new StreamOptions { PollInterval = TimeSpan.FromSeconds(5) };
        configure?.Invoke(settings);
        var options = Options.Create(settings);
        Window = new RecentEventsWindow(Math.Max(1, settings.RecentEventsWindowSize), settings.RecentEventsWindowPayloadBytes);
        Tail = new ChangeLogTail(reader, Wakeup, Fanout, Window, options, TimeProvider.System, NullLogger<ChangeLogTail>.Instance);
        Source = new EventStreamSource(reader, Fanout, Window, Tail, new StreamRequestValidator(options), options, TimeProvider.System);
    }

    public async Task StartAsync()
    {
        await Tail.StartAsync(CancellationToken.None);
        await Tail.Ready.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Appends and wakes the tail, as the NOTIFY after a commit does.</summary>
    public LogEvent Append(string project, string type, object? payload = null)
    {
        var e = Log.Append(project, type, payload);
        Wakeup.Signal();
        return e;
    }

    public async ValueTask DisposeAsync() => await Tail.StopAsync(CancellationToken.None);
}
