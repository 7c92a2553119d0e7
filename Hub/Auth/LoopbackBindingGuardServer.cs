using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace EventHub.Auth;

/// <summary>
/// Open mode's second line of defence: after the server has bound, checks the addresses it
/// actually listens on, and refuses to run if any is not loopback.
/// </summary>
/// <remarks>
/// <see cref="AuthOptionsValidator"/> refuses a configuration that names a network address, but
/// configuration is not the only way to bind: code (<c>ConfigureKestrel(k =&gt; k.ListenAnyIP(…))</c>),
/// a hosting environment's own settings, or a listen URL read differently than we read it. What
/// was bound is the truth. Requests that arrive between the bind and the check wait for it, so
/// none is served from an address that is about to be refused.
/// </remarks>
internal sealed class LoopbackBindingGuardServer(IServer inner, bool enforce) : IServer
{
    private readonly TaskCompletionSource _verified = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IFeatureCollection Features => inner.Features;

    public async Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull
    {
        if (!enforce)
        {
            _verified.TrySetResult();
            await inner.StartAsync(application, cancellationToken);
            return;
        }
        await inner.StartAsync(new GatedApplication<TContext>(application, _verified.Task), cancellationToken);
        var bound = inner.Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
        var exposed = bound.Where(a => !ListenAddresses.IsLoopback(a)).ToArray();
        if (exposed.Length == 0)
        {
            _verified.TrySetResult();
            return;
        }
        var refusal = new ExposedOpenModeException(exposed);
        _verified.TrySetException(refusal);
        await inner.StopAsync(CancellationToken.None);
        throw refusal;
    }

    public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

    public void Dispose() => inner.Dispose();

    private sealed class GatedApplication<TContext>(IHttpApplication<TContext> inner, Task verified) : IHttpApplication<TContext> where TContext : notnull
    {
        public TContext CreateContext(IFeatureCollection contextFeatures) => inner.CreateContext(contextFeatures);

        public async Task ProcessRequestAsync(TContext context)
        {
            // Completed once the addresses are checked: then this costs nothing. If the check
            // refused them, this throws and the request ends without a byte of the hub's data.
            if (!verified.IsCompletedSuccessfully) await verified;
            await inner.ProcessRequestAsync(context);
        }

        public void DisposeContext(TContext context, Exception? exception) => inner.DisposeContext(context, exception);
    }
}

/// <summary>Open mode found itself listening on a network address after start (see <see cref="LoopbackBindingGuardServer"/>).</summary>
public sealed class ExposedOpenModeException(IReadOnlyList<string> addresses) : InvalidOperationException(
    $"Refusing to run without authentication: the server is listening on {string.Join(", ", addresses)}, which is not loopback, " +
    "so anyone who reaches it could read every project. Set Auth:Mode=Token (with Auth:SigningKey or Auth:Authority), " +
    "listen on 127.0.0.1 only, or set Auth:AllowOpenOnNetwork=true to accept the exposure.")
{
    public IReadOnlyList<string> Addresses { get; } = addresses;
}
