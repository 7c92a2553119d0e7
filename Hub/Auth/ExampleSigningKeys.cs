namespace EventHub.Auth;

/// <summary>
/// Signing keys that have been printed in documentation. Anyone who read the page can sign tokens
/// for a hub started with one of them (copying an example into production is how that happens),
/// so <see cref="AuthOptionsValidator"/> refuses them at start-up.
/// </summary>
public static class ExampleSigningKeys
{
    private static readonly string[] Published =
    [
        "a secret of at least 32 bytes....", // README.md, token mode example, until issue 12
        "your-256-bit-secret",               // jwt.io's default HS256 secret
    ];

    /// <summary>Whether <paramref name="key"/> is a published example (ignoring case, surrounding space and quotes).</summary>
    public static bool IsPublished(string key)
    {
        var normalized = key.Trim().Trim('\'', '"').Trim();
        return Published.Any(p => string.Equals(p, normalized, StringComparison.OrdinalIgnoreCase));
    }
}
