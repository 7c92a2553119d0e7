using EventHub.Contracts;
using EventHub.State;

namespace EventHub.SignalR.Internal;

/// <summary>The state's entity keys as the hub methods send them.</summary>
internal static class LiveEntityKeys
{
    public static Dictionary<string, LiveEntityKey> Of(IReadOnlyDictionary<string, EntityKey> keys) =>
        keys.ToDictionary(x => x.Key, x => new LiveEntityKey { Kind = x.Value.Kind, Fields = x.Value.Fields }, StringComparer.Ordinal);
}
