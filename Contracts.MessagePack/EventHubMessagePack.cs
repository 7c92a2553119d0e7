using MessagePack;
using MessagePack.Resolvers;

namespace EventHub.Contracts.MessagePack;

/// <summary>
/// MessagePack settings for the EventHub contracts. A .NET client sets them on the SignalR
/// MessagePack protocol:
/// <code>.AddMessagePackProtocol(o => o.SerializerOptions = EventHubMessagePack.Options)</code>
/// </summary>
public static class EventHubMessagePack
{
    /// <summary>
    /// The formatters of the contracts (<see cref="ChangeEvent"/>, <see cref="StreamEventsRequest"/>,
    /// <see cref="ProjectNotice"/>, and <see cref="System.Text.Json.JsonElement"/> as a map), then
    /// SignalR's default resolvers (enums as strings, contractless objects).
    /// </summary>
    public static IFormatterResolver Resolver { get; } = CompositeResolver.Create(
        [ChangeEventFormatter.Instance, StreamEventsRequestFormatter.Instance, ProjectNoticeFormatter.Instance, JsonElementFormatter.Instance],
        [DynamicEnumAsStringResolver.Instance, ContractlessStandardResolver.Instance]);

    /// <summary>Standard options with <see cref="Resolver"/>, hardened for untrusted data (as SignalR's default).</summary>
    public static MessagePackSerializerOptions Options { get; } = WithResolver(Resolver);

    /// <summary>Options that put <paramref name="resolver"/> in place of <see cref="Resolver"/> (it should fall back to it).</summary>
    public static MessagePackSerializerOptions WithResolver(IFormatterResolver resolver) =>
        MessagePackSerializerOptions.Standard.WithResolver(resolver).WithSecurity(MessagePackSecurity.UntrustedData);
}
