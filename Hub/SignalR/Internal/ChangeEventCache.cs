using EventHub.Log;

namespace EventHub.SignalR.Internal;

/// <summary>
/// Each <see cref="LogEvent"/>'s one <see cref="SharedChangeEvent"/>, kept on the event
/// (<see cref="LogEvent.Encoded{T}"/>) for as long as the event is alive.
/// </summary>
public sealed class ChangeEventCache
{
    private readonly Encoding _encoding = new();

    internal SharedChangeEvent Get(LogEvent e) => e.Encoded(_encoding);

    private sealed class Encoding : EventEncoding<SharedChangeEvent>
    {
        public override SharedChangeEvent Encode(LogEvent e) => new(e);
    }
}
