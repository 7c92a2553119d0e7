namespace EventHub.Streaming;

/// <summary>
/// The characters a project id may have: 1 to <see cref="StreamOptions.MaxProjectIdLength"/> of
/// <c>A-Z a-z 0-9 . _ -</c>, starting with a letter or a digit. Checked where ids enter the hub:
/// stream requests (<see cref="StreamRequestValidator"/>) and a token's projects claim.
/// </summary>
/// <remarks>
/// The set leaves out every character that means something around an id: space and comma (the
/// separators of a projects claim written as one string, so <c>"a,b"</c> cannot be one id in one
/// place and two in another), <c>*</c> (the wildcard), URL and path syntax, quotes, control
/// characters and non-ASCII look-alikes (an id that prints like another in a log or the viewer).
/// </remarks>
public static class ProjectIds
{
    /// <summary>The allowed characters, as error messages and docs name them.</summary>
    public const string AllowedCharacters = "A-Z a-z 0-9 . _ -";

    public static bool IsValid(string? id, int maxLength) =>
        !string.IsNullOrEmpty(id) && id.Length <= maxLength && char.IsAsciiLetterOrDigit(id[0]) &&
        id.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>The rule in words, for error messages.</summary>
    public static string Rule(int maxLength) =>
        $"1 to {maxLength} characters from {AllowedCharacters}, starting with a letter or a digit";
}
