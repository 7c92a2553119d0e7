namespace EventHub.SignalR;

/// <summary>Settings of the SignalR hub (section <c>SignalR</c>). Defaults are the values below.</summary>
public sealed class EventsHubOptions
{
    public const string Section = "SignalR";

    /// <summary>
    /// Events queued per stream between the <see cref="Streaming.EventStream"/> and SignalR's
    /// sender. Small on purpose: when it is full the pump stops reading, the stream's own live
    /// buffer (<see cref="Streaming.StreamOptions.SubscriberBufferCapacity"/>) fills and the stream
    /// falls back to reading the log, so a slow stream costs bounded memory and loses nothing.
    /// </summary>
    public int StreamChannelCapacity { get; set; } = 128;

    /// <summary>
    /// Payload bytes queued per stream past its first event, beside <see cref="StreamChannelCapacity"/>:
    /// a few hundred bytes an event never reach it, while 128 events of a megabyte queued for one
    /// slow client would be 128 MB.
    /// </summary>
    public long StreamChannelPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Entities per item of <c>StreamState</c> (~350 bytes each for the contract's payloads): small
    /// enough that no item is a large message, large enough that a state of 10,000 entities is 20 items.
    /// </summary>
    public int StatePageEntities { get; set; } = 500;

    /// <summary>
    /// How often the hub pings an idle connection. Below common proxy idle timeouts (often 60 s)
    /// so that idle streams are not cut. Clients should time out after about twice this.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the hub waits for a client message (pings included) before it drops the connection.</summary>
    public TimeSpan ClientTimeoutInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// On a graceful stop, how long SignalR's connections stay open for their streams' final item
    /// (<c>server_ended</c>) before they close: milliseconds for clients that read, and the bound for
    /// one too slow to take it. <c>00:00:00</c> closes them at once (clients see a lost connection).
    /// </summary>
    public TimeSpan StopDrainTimeout { get; set; } = TimeSpan.FromSeconds(1);
}
