using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace EventHub.SignalR.Internal;

/// <summary>
/// A hub protocol that parses past the messages its inner protocol ignores, so that SignalR's
/// connection handler only ever sees "a message" or "more data needed".
/// </summary>
/// <remarks>
/// Race guarded: none; a framework fault (dotnet/aspnetcore#69285, open for 10.0). Both of
/// SignalR's protocols ignore a message of an unknown type (for forward compatibility) by
/// consuming its frame and answering false, the answer for "more data needed". With a maximum
/// message size set (the hub sets <c>Limits:MaxHubMessageBytes</c>) the connection handler
/// then keeps its unconsumed buffer and parses that same frame again on every read: the
/// connection answers nothing more, ever, and holds its connection slot until the client goes.
/// Here the inner protocol is asked again after such a frame, so the next message is parsed;
/// when the ignored frame is the last one read, "more data needed" is the true answer, and the
/// frame is skipped again once more data comes. Remove when SignalR's handler skips them itself.
/// </remarks>
internal sealed class IgnoredMessageSkippingProtocol(IHubProtocol inner) : IHubProtocol
{
    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        while (true)
        {
            var before = input.Length;
            if (inner.TryParseMessage(ref input, binder, out message)) return true;
            if (input.Length == before || input.IsEmpty) return false; // more data needed
            // A frame was consumed and ignored: parse what follows it.
        }
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
