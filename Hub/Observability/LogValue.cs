using System.Text;

namespace EventHub.Observability;

/// <summary>
/// Makes a client-supplied value safe to put in a log entry: control characters (CR and LF above
/// all) are escaped, so a crafted path, offset or project id cannot forge a log line or hide one
/// in a text log; long values are cut.
/// </summary>
public static class LogValue
{
    /// <summary>Longest value kept, in characters; longer ones end with "…".</summary>
    public const int MaxLength = 200;

    public static string Of(string? value)
    {
        if (string.IsNullOrEmpty(value)) return value ?? "";
        var needsWork = value.Length > MaxLength;
        foreach (var c in value)
            if (char.IsControl(c) || c is '\u2028' or '\u2029') { needsWork = true; break; }
        if (!needsWork) return value;

        var builder = new StringBuilder(Math.Min(value.Length, MaxLength) + 8);
        foreach (var c in value.AsSpan(0, Math.Min(value.Length, MaxLength)))
        {
            switch (c)
            {
                case '\r': builder.Append("\\r"); break;
                case '\n': builder.Append("\\n"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029') builder.Append("\\u").Append(((int)c).ToString("x4"));
                    else builder.Append(c);
                    break;
            }
        }
        if (value.Length > MaxLength) builder.Append('…');
        return builder.ToString();
    }

    /// <summary>A request path as it came, percent-encoded (never the decoded form, which can hold CR/LF).</summary>
    public static string Of(PathString path) => Of(path.ToUriComponent());
}
