using MessagePack;
using MessagePack.Formatters;

namespace EventHub.Contracts.MessagePack;

/// <summary><see cref="ProjectNotice"/> as a map with camelCase keys; unknown keys are skipped.</summary>
public sealed class ProjectNoticeFormatter : IMessagePackFormatter<ProjectNotice?>
{
    /// <summary>The shared instance.</summary>
    public static ProjectNoticeFormatter Instance { get; } = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, ProjectNotice? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        writer.WriteMapHeader(4);
        writer.Write("projectId");
        writer.Write(value.ProjectId);
        writer.Write("kind");
        writer.Write(value.Kind);
        writer.Write("message");
        writer.Write(value.Message);
        writer.Write("offset");
        writer.Write(value.Offset);
    }

    /// <inheritdoc />
    public ProjectNotice? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        string projectId = "", kind = "", message = "";
        string? offset = null;
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            switch (reader.ReadString())
            {
                case "projectId": projectId = reader.ReadString() ?? ""; break;
                case "kind": kind = reader.ReadString() ?? ""; break;
                case "message": message = reader.ReadString() ?? ""; break;
                case "offset": offset = reader.ReadString(); break;
                default: reader.Skip(); break;
            }
        }
        return new ProjectNotice { ProjectId = projectId, Kind = kind, Message = message, Offset = offset };
    }
}
