using System.Threading.Channels;
using EventHub.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.Tests.Infrastructure;

/// <summary>One open stream; every read is bounded.</summary>
public sealed class TestEventStream(ChannelReader<ChangeEvent> reader)
{
    public async Task<ChangeEvent> ReadAsync()
    {
        try
        {
            return await reader.ReadAsync().AsTask().WithTimeout();
        }
        catch (ChannelClosedException e) when (e.InnerException is HubException hub)
        {
            throw hub;
        }
    }

    public async Task<List<ChangeEvent>> ReadAsync(int count)
    {
        var events = new List<ChangeEvent>(count);
        for (var i = 0; i < count; i++) events.Add(await ReadAsync());
        return events;
    }

    /// <summary>Waits for the stream to end with an error from the hub, and returns it.</summary>
    public async Task<HubException> FailureAsync()
    {
        var completion = reader.Completion.WithTimeout();
        return await Assert.ThrowsAsync<HubException>(() => completion);
    }

    /// <summary>Waits for the stream to end (cancelled or completed); returns how it ended.</summary>
    public async Task<Exception?> EndAsync()
    {
        try
        {
            // Drain what is left: a completion is only observed once the channel is empty.
            while (await reader.WaitToReadAsync().AsTask().WithTimeout())
                while (reader.TryRead(out _)) { }
            return null;
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            return e;
        }
    }

    /// <summary>
    /// Every item of <paramref name="reader"/> until it ends, and the error it ended with (null: it
    /// completed; the hub's error; or how the connection was lost). Each wait is bounded.
    /// </summary>
    public static async Task<(List<ChangeEvent> Items, Exception? Error)> ReadToEndAsync(ChannelReader<ChangeEvent> reader)
    {
        var items = new List<ChangeEvent>();
        try
        {
            while (await reader.WaitToReadAsync().AsTask().WithTimeout())
                while (reader.TryRead(out var item)) items.Add(item);
            return (items, null);
        }
        catch (ChannelClosedException e) when (e.InnerException is { } inner)
        {
            return (items, inner);
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            return (items, e);
        }
    }
}
