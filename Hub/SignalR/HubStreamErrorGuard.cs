using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>
/// Wraps the stream a hub method returned (a <see cref="ChannelReader{T}"/> or an
/// <see cref="IAsyncEnumerable{T}"/>) so that an exception it ends with, other than a
/// <see cref="HubException"/>, is replaced: SignalR reads streams after the hub filter has
/// returned, and with detailed errors it would send that exception's text to the client.
/// </summary>
internal static class HubStreamErrorGuard
{
    public static object? Wrap(object? result, Func<Exception, HubException> replace)
    {
        if (result is null) return null;
        for (var type = result.GetType(); type is not null; type = type.BaseType)
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ChannelReader<>))
                return Activator.CreateInstance(typeof(GuardedChannelReader<>).MakeGenericType(type.GetGenericArguments()), result, replace);
        var enumerable = result.GetType().GetInterfaces()
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>));
        if (enumerable is not null)
            return Activator.CreateInstance(typeof(GuardedAsyncEnumerable<>).MakeGenericType(enumerable.GetGenericArguments()), result, replace);
        return result;
    }

    private sealed class GuardedChannelReader<T>(ChannelReader<T> inner, Func<Exception, HubException> replace) : ChannelReader<T>
    {
        public override Task Completion => inner.Completion;
        public override bool CanCount => inner.CanCount;
        public override int Count => inner.Count;
        public override bool CanPeek => inner.CanPeek;
        public override bool TryPeek(out T item) => inner.TryPeek(out item!);
        public override bool TryRead(out T item) => inner.TryRead(out item!);

        public override async ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.WaitToReadAsync(cancellationToken);
            }
            catch (Exception e) when (e is not HubException and not OperationCanceledException)
            {
                throw replace(e is ChannelClosedException { InnerException: { } cause } ? cause : e);
            }
        }

        public override async ValueTask<T> ReadAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(cancellationToken);
            }
            catch (ChannelClosedException e) when (e.InnerException is HubException hub)
            {
                throw hub;
            }
            catch (Exception e) when (e is not HubException and not OperationCanceledException and not ChannelClosedException { InnerException: null })
            {
                throw replace(e is ChannelClosedException { InnerException: { } cause } ? cause : e);
            }
        }
    }

    private sealed class GuardedAsyncEnumerable<T>(IAsyncEnumerable<T> inner, Func<Exception, HubException> replace) : IAsyncEnumerable<T>
    {
        public async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            await using var e = inner.GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                try
                {
                    if (!await e.MoveNextAsync()) yield break;
                }
                catch (Exception ex) when (ex is not HubException and not OperationCanceledException)
                {
                    throw replace(ex);
                }
                yield return e.Current;
            }
        }
    }
}
