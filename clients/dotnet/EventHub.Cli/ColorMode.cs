namespace EventHub.Cli;

/// <summary>Whether human output gets colour.</summary>
public static class ColorMode
{
    /// <summary>
    /// Colour only for a terminal: not when stdout is redirected (a pipe or a file), not when
    /// <c>NO_COLOR</c> is set to anything non-empty (no-color.org), not on <c>TERM=dumb</c>.
    /// </summary>
    /// <param name="outputRedirected">Whether stdout is redirected.</param>
    /// <param name="noColor">The value of <c>NO_COLOR</c>.</param>
    /// <param name="term">The value of <c>TERM</c>.</param>
    public static bool ShouldUseColor(bool outputRedirected, string? noColor, string? term) =>
        !outputRedirected && string.IsNullOrEmpty(noColor) && !string.Equals(term, "dumb", StringComparison.Ordinal);
}
