using MessagePack;
using MessagePack.Formatters;

namespace EventHub.Contracts.MessagePack;

/// <summary><see cref="StreamEventsRequest"/> as a map: <c>projects</c>, <c>types</c> (arrays of strings or nil), <c>after</c>, <c>signalItems</c> (bool; absent means false); read with keys in any case.</summary>
public sealed class StreamEventsRequestFormatter : IMessagePackFormatter<StreamEventsRequest?>
{
    /// <summary>The shared instance.</summary>
    public static StreamEventsRequestFormatter Instance { get; } = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, StreamEventsRequest? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        writer.WriteMapHeader(4);
        writer.Write("projects");
        WriteList(ref writer, value.Projects);
        writer.Write("types");
        WriteList(ref writer, value.Types);
        writer.Write("after");
        writer.Write(value.After);
        writer.Write("signalItems");
        writer.Write(value.SignalItems);
    }

    /// <inheritdoc />
    public StreamEventsRequest? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        options.Security.DepthStep(ref reader);
        try
        {
            IReadOnlyList<string>? projects = null, types = null;
            string? after = null;
            var signalItems = false;
            var count = reader.ReadMapHeader();
            for (var i = 0; i < count; i++)
            {
                // Keys match regardless of case, as the JSON protocol's do: a client that sends a .NET
                // object's own names (Projects, After) over MessagePack got every project from now.
                switch (reader.ReadString()?.ToLowerInvariant())
                {
                    case "projects": projects = ReadList(ref reader); break;
                    case "types": types = ReadList(ref reader); break;
                    case "after": after = reader.ReadString(); break;
                    case "signalitems": signalItems = !reader.TryReadNil() && reader.ReadBoolean(); break;
                    default: reader.Skip(); break;
                }
            }
            return new StreamEventsRequest { Projects = projects, Types = types, After = after, SignalItems = signalItems };
        }
        finally
        {
            reader.Depth--;
        }
    }

    private static void WriteList(ref MessagePackWriter writer, IReadOnlyList<string>? list)
    {
        if (list is null)
        {
            writer.WriteNil();
            return;
        }
        writer.WriteArrayHeader(list.Count);
        foreach (var item in list) writer.Write(item);
    }

    private static string[]? ReadList(ref MessagePackReader reader)
    {
        if (reader.TryReadNil()) return null;
        // The count comes from the client; the hub's validator caps it after reading, and a
        // message's size is capped by the hub's MaximumReceiveMessageSize, so no huge allocation.
        var items = new string[reader.ReadArrayHeader()];
        for (var i = 0; i < items.Length; i++) items[i] = reader.ReadString() ?? "";
        return items;
    }
}
