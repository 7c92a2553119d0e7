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
                result.AddError($"--url '{value}' is not an http:// or https:// URL; for example {EventHubCli.DefaultUrl}.");
        });
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
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
    };
}
