using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using EventHub.Client;
using EventHub.Contracts;

namespace EventHub.Cli;

/// <summary>The two output forms of <c>eventhub tail</c> and <c>eventhub state</c>: a human line and a JSON line.</summary>
public static class EventFormatter
{
    private const string Reset = "\u001b[0m";
    private const string Dim = "\u001b[2m";

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// <c>12:03:04  ao/ao-3  pr_updated  ci=passing review=approved …</c>: local time, project and
    /// session, type, then the payload's gist. With <paramref name="color"/> the time is dim and the
    /// type coloured by family. Control characters from the payload are replaced, so an event
    /// cannot send escape sequences to the terminal.
    /// </summary>
    /// <param name="evt">The event (typed or not).</param>
    /// <param name="color">Whether to add ANSI colours.</param>
    public static string Human(ChangeEvent evt, bool color)
    {
        ArgumentNullException.ThrowIfNull(evt);
        var time = evt.CreatedAt.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        var where = evt.SessionId is null ? evt.ProjectId : $"{evt.ProjectId}/{evt.SessionId}";
        var type = Clean(evt.Type);
        var detail = Clean(Detail(evt.ToTyped()));
        return color
            ? $"{Dim}{time}{Reset}  {Clean(where)}  {FamilyColor(evt.Type)}{type}{Reset}  {detail}"
            : $"{time}  {Clean(where)}  {type}  {detail}";
    }

    /// <summary>
    /// The event as one line of JSON, in the contract's shape (<c>seq</c>, <c>projectId</c>,
    /// <c>sessionId</c>, <c>type</c>, <c>payload</c>, <c>createdAt</c>, <c>offset</c>), as the SSE
    /// endpoint writes it.
    /// </summary>
    /// <param name="evt">The event.</param>
    public static string Json(ChangeEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return Line(json => WriteEvent(json, evt));
    }

    /// <summary>
    /// An entity of the live state as one line of JSON: <c>{"kind":"pr","key":["…"],"event":{…}}</c>,
    /// the shape of an entity in <c>GET /api/v1/state</c> (the event as <see cref="Json(ChangeEvent)"/> writes it).
    /// </summary>
    /// <param name="entity">The entity.</param>
    public static string Json(LiveEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return Line(json =>
        {
            json.WriteStartObject();
            json.WriteString("kind", entity.Kind);
            json.WritePropertyName("key");
            using (var key = JsonDocument.Parse(entity.Key)) key.RootElement.WriteTo(json); // the key's JSON array, as the hub built it
            json.WritePropertyName("event");
            WriteEvent(json, entity.Event);
            json.WriteEndObject();
        });
    }

    /// <summary>One line of JSON, as <paramref name="write"/> writes it.</summary>
    private static string Line(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions)) write(json);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteEvent(Utf8JsonWriter json, ChangeEvent evt)
    {
        json.WriteStartObject();
        json.WriteNumber("seq", evt.Seq);
        json.WriteString("projectId", evt.ProjectId);
        if (evt.SessionId is null) json.WriteNull("sessionId");
        else json.WriteString("sessionId", evt.SessionId);
        json.WriteString("type", evt.Type);
        json.WritePropertyName("payload");
        if (evt.Payload.ValueKind == JsonValueKind.Undefined) json.WriteNullValue();
        else evt.Payload.WriteTo(json);
        json.WriteString("createdAt", evt.CreatedAt.UtcDateTime);
        json.WriteString("offset", evt.Offset);
        json.WriteEndObject();
    }

    private static string Detail(ChangeEvent evt) => evt switch
    {
        StreamReset r => $"reason={r.Reason} continue-after={r.ContinueFrom}  {r.Message}",
        SessionUpdated { PreviewUrl: { } preview } s =>
            $"activity={s.Activity}" + (s.IsTerminated ? " terminated" : "") + $" preview={preview} r{s.PreviewRevision.ToString(CultureInfo.InvariantCulture)}",
        SessionEvent s => $"activity={s.Activity}" + (s.IsTerminated ? " terminated" : ""),
        PrStateEvent p => $"ci={p.Ci} review={p.Review} state={p.State} merge={p.Mergeability}  {p.Url}",
        PrSessionChanged m => $"from={m.FromSession} to={m.ToSession}  {m.Url}",
        PrCheckRecorded c => $"check={c.Name} status={c.Status} commit={c.Commit}  {c.Pr}",
        PrReviewThreadAdded t => $"thread={t.Thread} at={Location(t.Path, t.Line)}{(t.IsBot ? " bot" : "")}  {t.Pr}",
        PrReviewThreadResolved t => $"thread={t.Thread} resolved={(t.Resolved ? "true" : "false")} at={Location(t.Path, t.Line)}  {t.Pr}",
        _ => evt.Payload.ValueKind == JsonValueKind.Undefined ? "" : evt.Payload.GetRawText(),
    };

    private static string Location(string? path, int? line) =>
        line is null ? path ?? "-" : $"{path ?? "-"}:{line.Value.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>ANSI colour of a type's family: sessions cyan, checks yellow, review threads magenta, other PR events green, the rest blue.</summary>
    private static string FamilyColor(string type) =>
        type.StartsWith("session_", StringComparison.Ordinal) ? "\u001b[36m"
        : type.StartsWith("pr_check", StringComparison.Ordinal) ? "\u001b[33m"
        : type.StartsWith("pr_review_thread", StringComparison.Ordinal) ? "\u001b[35m"
        : type.StartsWith("pr_", StringComparison.Ordinal) ? "\u001b[32m"
        : "\u001b[34m";

    private static string Clean(string text)
    {
        if (!text.Any(char.IsControl)) return text;
        return string.Create(text.Length, text, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++) span[i] = char.IsControl(s[i]) ? '?' : s[i];
        });
    }
}
