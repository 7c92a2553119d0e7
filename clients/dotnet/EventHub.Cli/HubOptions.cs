using System.CommandLine;
using EventHub.Client;

namespace EventHub.Cli;

/// <summary>The options every command has: the hub, the selection, the output form, the protocol.</summary>
internal sealed class HubOptions
{
    public Option<string> Url { get; } = new("--url", "-u")
    {
        Description = $"The hub server (default: $EVENTHUB_URL or {EventHubCli.DefaultUrl}).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EVENTHUB_URL") is { Length: > 0 } url ? url : EventHubCli.DefaultUrl,
    };

    public Option<string[]> Projects { get; } = new("--project", "-p")
    {
        Description = "Only this project; repeat for several. None selects every project.",
    };

    public Option<string[]> Types { get; } = new("--type", "-t")
    {
        Description = "Only this event type, or a family such as pr_*; repeat for several.",
    };

    /// <summary>A bearer token, given once (it is sent on every connection until the command ends).</summary>
    public Option<string> Token { get; } = new("--token")
    {
        // No DefaultValueFactory: --help prints an option's default, and this one is a secret.
        Description = "A bearer token for a hub in token mode (default: $EVENTHUB_TOKEN). Prefer the variable or --token-file: " +
                      "arguments are visible to other users of the machine.",
    };

    /// <summary>A file holding the token, read again on every connection, so that a refresher can replace it.</summary>
    public Option<FileInfo> TokenFile { get; } = new("--token-file")
    {
        Description = "A file holding the bearer token, read again on every connection (a long tail picks up a token its " +
                      "refresher wrote there; replace the file by renaming a new one over it). Wins over --token and $EVENTHUB_TOKEN.",
    };

    public Option<bool> Json { get; }

    public Option<string> Protocol { get; } = new("--protocol")
    {
        Description = "The hub protocol: json or messagepack.",
        DefaultValueFactory = _ => "json",
    };

    /// <param name="jsonDescription">What <c>--json</c> writes in this command.</param>
    public HubOptions(string jsonDescription)
    {
        Json = new Option<bool>("--json") { Description = jsonDescription };
        Protocol.AcceptOnlyFromAmong("json", "messagepack");
        Url.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                result.AddError($"{(result.Implicit ? "$EVENTHUB_URL" : "--url")} '{value}' is not an http:// or https:// URL; for example {EventHubCli.DefaultUrl}.");
        });
        TokenFile.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo>() is { Exists: false } file)
                result.AddError($"--token-file '{file.FullName}' does not exist.");
        });
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
        command.Options.Add(TokenFile);
        command.Options.Add(Projects);
        command.Options.Add(Types);
        command.Options.Add(Json);
        command.Options.Add(Protocol);
    }

    /// <summary>The client's options for what <paramref name="parsed"/> selects.</summary>
    public EventHubClientOptions ClientOptions(ParseResult parsed, string? startAfter = null) => new()
    {
        HubUrl = new Uri(parsed.GetValue(Url)!),
        Projects = parsed.GetValue(Projects),
        Types = parsed.GetValue(Types),
        StartAfter = startAfter,
        Protocol = parsed.GetValue(Protocol) == "messagepack" ? EventHubProtocol.MessagePack : EventHubProtocol.Json,
        AccessTokenProvider = TokenProvider(parsed),
    };

    /// <summary>
    /// The token source: the file (read on every connection: the client asks again after
    /// <c>token_expired</c>), else the fixed token, else none (open mode).
    /// </summary>
    private Func<Task<string?>>? TokenProvider(ParseResult parsed)
    {
        if (parsed.GetValue(TokenFile) is { } file)
            return () => ReadTokenFileAsync(file.FullName);
        var token = parsed.GetValue(Token) is { Length: > 0 } given ? given : Environment.GetEnvironmentVariable("EVENTHUB_TOKEN");
        return token is { Length: > 0 } ? () => Task.FromResult<string?>(token) : null;
    }

    /// <summary>
    /// The file's token. Empty is read again for a moment: a refresher that rewrites the file in
    /// place (truncate, then write) leaves it empty in between, and a connection without a token
    /// would be refused as unauthenticated.
    /// </summary>
    private static async Task<string?> ReadTokenFileAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = (await File.ReadAllTextAsync(path).ConfigureAwait(false)).Trim();
            if (token.Length > 0 || attempt == 20) return token;
            await Task.Delay(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
        }
    }
}
