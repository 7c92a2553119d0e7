using System.Runtime.CompilerServices;
using EventHub.Contracts;
using EventHub.State;

namespace EventHub.SignalR.Internal;

/// <summary>
/// A state read cut into the pages of the hub method <c>StreamState</c>: the first page carries
/// the head, the last the count, a full page goes out as soon as the next entity has arrived. The
/// read runs ahead of the client (<see cref="StateReadAhead"/>): a client that stops reading holds
/// no state read.
/// </summary>
internal static class StatePages
{
    /// <param name="state">The read, read ahead of the pages; the caller disposes it.</param>
    /// <param name="size">Entities per page.</param>
    /// <param name="entity">An entity of the read as the page carries it.</param>
    /// <param name="cancellationToken">The stream's token.</param>
    public static async IAsyncEnumerable<LiveStatePage> ReadAsync(StateReadAhead state, int size,
        Func<LiveStateItem, LiveEntity> entity, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = new List<LiveEntity>(size);
        var count = 0;
        var first = true;
        // A failed read throws here: the stream fails.
        await foreach (var item in state.Entities(cancellationToken))
        {
            if (page.Count == size)
            {
                yield return Page(state.Head, page, first, null);
                first = false;
                page = new List<LiveEntity>(size);
            }
            page.Add(entity(item));
            count++;
        }
        yield return Page(state.Head, page, first, count);
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
