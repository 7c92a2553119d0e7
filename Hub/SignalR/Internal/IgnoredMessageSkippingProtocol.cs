using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace EventHub.SignalR.Internal;

/// <summary>
/// A hub protocol that turns a message its inner protocol ignores into a ping, so that SignalR's
/// connection handler moves past it: the handler only ever sees "a message" or "more data needed".
/// </summary>
/// <remarks>
/// A framework fault (dotnet/aspnetcore#69285, open for 10.0): both of SignalR's protocols ignore a
/// message of an unknown type (for forward compatibility) by consuming its frame and answering
/// false, the answer for "more data needed". With a maximum message size set (the hub sets
/// <c>Limits:MaxHubMessageBytes</c>) the connection handler then keeps its unconsumed buffer and
/// parses that same frame again on every read: the connection answers nothing more, ever, and holds
/// its connection slot until the client goes. Answering with a ping instead (which the handler
/// takes as a client's keep-alive) makes it consume the frame. Merely parsing on past the frame
/// would not do: the handler still keeps the skipped frames at the front of its size-limited
/// window, so frames skipped before a later message would close a good connection as "too large".
/// Remove when SignalR's handler skips them itself.
/// </remarks>
internal sealed class IgnoredMessageSkippingProtocol(IHubProtocol inner) : IHubProtocol
{
    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        var before = input.Length;
        if (inner.TryParseMessage(ref input, binder, out message)) return true;
        if (input.Length == before) return false; // more data needed
        message = PingMessage.Instance; // a frame consumed and ignored
        return true;
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => inner.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => inner.GetMessageBytes(message);

    /// <summary>Wraps every hub protocol registered so far (call after the protocols are added).</summary>
    public static void WrapRegistered(IServiceCollection services)
    {
        foreach (var registered in services.Where(d => d.ServiceType == typeof(IHubProtocol)).ToList())
        {
            var i = services.IndexOf(registered);
            services[i] = ServiceDescriptor.Singleton<IHubProtocol>(sp => new IgnoredMessageSkippingProtocol(registered switch
            {
                { ImplementationInstance: IHubProtocol instance } => instance,
                { ImplementationFactory: { } factory } => (IHubProtocol)factory(sp),
                _ => (IHubProtocol)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!),
            }));
        }
    }
}
