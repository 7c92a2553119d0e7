using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EventHub.Contracts;
using EventHub.State;

namespace EventHub.SignalR.Internal;

/// <summary>
/// A state read cut into the pages of the hub method <c>StreamState</c>: the first page carries
/// the head, the last the count, a full page goes out as soon as the next entity has arrived.
/// </summary>
/// <remarks>
/// The read is drained into memory on a task of its own, so the database's read (a pooled session
/// and one of <c>Limits:MaxConcurrentStateReads</c>) lasts as long as the read and never waits for
/// the client. Read at the client's pace, a client that stops reading would hold a slot and a
/// session for as long as it stalls (Kestrel's minimum data rate does not apply to a WebSocket):
/// in <c>StatePagesTests</c> another read waited ~10 s, until the stalled connection was dropped.
/// The memory is the state's, as <c>GetState</c>'s one answer holds it.
/// </remarks>
internal static class StatePages
{
    /// <param name="state">The read, positioned on its head (<see cref="Streaming.Policy.StreamPolicy.OpenStateAsync"/>); disposed here.</param>
    /// <param name="size">Entities per page.</param>
    /// <param name="entity">An entity of the read as the page carries it.</param>
    /// <param name="cancellationToken">The stream's token: ends the read too.</param>
    public static async IAsyncEnumerable<LiveStatePage> ReadAsync(IAsyncEnumerator<LiveStateItem> state, int size,
        Func<LiveStateItem, LiveEntity> entity, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var head = state.Current.Head!;
        var entities = Channel.CreateUnbounded<LiveEntity>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var drain = DrainAsync(state, entities.Writer, entity);
        try
        {
            var page = new List<LiveEntity>(size);
            var count = 0;
            var first = true;
            // A failed read completes the channel with its error: ReadAllAsync throws it, the stream fails.
            await foreach (var e in entities.Reader.ReadAllAsync(cancellationToken))
            {
                if (page.Count == size)
                {
                    yield return Page(head, page, first, null);
                    first = false;
                    page = new List<LiveEntity>(size);
                }
                page.Add(e);
                count++;
            }
            yield return Page(head, page, first, count);
        }
        finally
        {
            // A client that left cancelled the read (its enumerator has the stream's token): wait
            // for the drain to end so the session and the slot are back before the stream is.
            await drain;
        }
    }

    private static async Task DrainAsync(IAsyncEnumerator<LiveStateItem> state, ChannelWriter<LiveEntity> entities,
        Func<LiveStateItem, LiveEntity> entity)
    {
        await Task.Yield(); // the caller goes on to read while this task drains
        try
        {
            await using (state)
                while (await state.MoveNextAsync())
                    entities.TryWrite(entity(state.Current));
            entities.TryComplete();
        }
        catch (Exception e)
        {
            entities.TryComplete(e);
        }
    }

    private static LiveStatePage Page(LiveStateHead head, List<LiveEntity> entities, bool first, int? count) => new()
    {
        Offset = head.Offset,
        Entities = entities,
        UnkeyedTypes = first ? head.UnkeyedTypes : null,
        EntityKeys = first ? LiveEntityKeys.Of(head.EntityKeys) : null,
        EntityCount = count,
    };
}
