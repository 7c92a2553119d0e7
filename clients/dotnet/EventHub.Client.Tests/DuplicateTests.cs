using System.Diagnostics.Metrics;
using System.Threading.Channels;
using EventHub.Client.Internal;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace EventHub.Client.Tests;

/// <summary>
/// Issue 14, point 3: a repeated event is dropped but made visible (counted, logged, measured).
/// No correct hub sends one, so the client's test seam (<see cref="EventHubClient.OpenStreamOverride"/>)
/// delivers the stream; the end-to-end tests assert <see cref="EventHubClient.DuplicatesDropped"/> stays 0.
/// </summary>
public sealed class DuplicateTests
{
    private static ChangeEvent Event(long seq) =>
        new() { Seq = seq, ProjectId = "p", Type = "custom_type", CreatedAt = DateTimeOffset.UnixEpoch, Offset = $"e.1.{seq}" };

    /// <summary>A client whose one connection delivers <paramref name="items"/> and then stays open.</summary>
    private static EventHubClient ScriptedClient(LogSink logs, params ChangeEvent[] items)
    {
        var channel = Channel.CreateUnbounded<ChangeEvent>();
        foreach (var item in items) channel.Writer.TryWrite(item);
        var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        return new EventHubClient(new EventHubClientOptions { HubUrl = new Uri("http://127.0.0.1:1"), StartAfter = "0", LoggerFactory = loggerFactory })
        {
            OpenStreamOverride = (_, _) => Task.FromResult(channel.Reader),
        };
    }

    private static async Task<List<ChangeEvent>> ReadAsync(EventHubClient client, int count)
    {
        using var cts = new CancellationTokenSource(TaskTimeouts.Default);
        var list = new List<ChangeEvent>();
        await foreach (var e in client.ReadAllAsync(cts.Token))
        {
            list.Add(e);
            if (list.Count == count) break;
        }
        return list;
    }

    [Fact]
    public async Task A_repeated_seq_is_yielded_once_and_counted_logged_and_measured()
    {
        var logs = new LogSink();
        await using var client = ScriptedClient(logs, Event(1), Event(2), Event(2), Event(3), Event(1), Event(4));
        var measured = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ClientMetrics.MeterName && instrument.Name == "eventhub.client.duplicates_dropped") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            // Other tests' clients may measure too; only this client's hub tag counts here.
            foreach (var tag in tags)
                if (tag.Key == "hub" && (string?)tag.Value == "http://127.0.0.1:1/hubs/events") Interlocked.Add(ref measured, value);
        });
        listener.Start();

        var events = await ReadAsync(client, 4);

        Assert.Equal([1L, 2, 3, 4], events.Select(e => e.Seq));
        Assert.Equal(2, client.DuplicatesDropped);
        Assert.Equal(2, Interlocked.Read(ref measured));
        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning && e.EventId.Id == 9).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains("seq 2", warnings[0].Message);
        Assert.Equal("e.1.4", client.LastOffset); // a dropped duplicate does not move the offset
    }

    [Fact]
    public async Task A_reset_forgets_the_seen_seqs_because_the_next_log_has_its_own()
    {
        var logs = new LogSink();
        var reset = new StreamReset("offset_from_another_log", "another log", "0", "e.1.2", [], DateTimeOffset.UnixEpoch);
        await using var client = ScriptedClient(logs, Event(1), Event(2), reset, Event(1), Event(2));

        var items = await ReadAsync(client, 5);

        Assert.IsType<StreamReset>(items[2]);
        Assert.Equal([1L, 2, 0, 1, 2], items.Select(e => e.Seq));
        Assert.Equal(0, client.DuplicatesDropped);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 9);
    }
}
