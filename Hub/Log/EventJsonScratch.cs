using System.Buffers;
using System.Text.Json;

namespace EventHub.Log;

/// <summary>
/// One buffer and one <see cref="Utf8JsonWriter"/> per thread, in which <see cref="LogEvent"/>
/// builds its JSON before it copies it into the array it keeps (as System.Text.Json caches its own
/// writers per thread).
/// </summary>
/// <remarks>
/// Why: a new buffer (sized for the payload plus 256 bytes, then copied out) and a new writer for
/// every event were more than the JSON itself, for every event a catch-up or a live-state read
/// builds; with the state read's rows read by hand, a state read allocates 1,550 instead of 4,030
/// bytes per entity (<c>StateReadAllocationTests</c>). Garbage is what the hub's collections pause
/// every stream for. The cache holds no event's data between uses: each use starts from an
/// empty buffer, and a buffer grown past <see cref="KeptCapacity"/> by a large payload is dropped,
/// not kept for the thread's life.
/// </remarks>
internal static class EventJsonScratch
{
    /// <summary>The largest buffer a thread keeps (a larger one served one large payload).</summary>
    public const int KeptCapacity = 16 * 1024;

    [ThreadStatic] private static Scratch? t_scratch;

    /// <summary>A writer over an empty buffer; give both back with <see cref="Return"/>.</summary>
    /// <remarks>A nested use on the same thread (none today) gets a scratch of its own.</remarks>
    public static Scratch Rent()
    {
        var scratch = t_scratch;
        if (scratch is null) return new Scratch();
        t_scratch = null;
        scratch.Reset();
        return scratch;
    }

    public static void Return(Scratch scratch)
    {
        if (scratch.Buffer.Capacity > KeptCapacity) return;
        t_scratch = scratch;
    }

    internal sealed class Scratch
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new(1024);
        public Utf8JsonWriter Writer { get; }

        public Scratch() => Writer = new Utf8JsonWriter(Buffer);

        public void Reset()
        {
            Buffer.ResetWrittenCount();
            Writer.Reset(Buffer);
        }
    }
}
