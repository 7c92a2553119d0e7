using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace EventHub.Operations;

/// <summary>
/// What a started hub prints for whoever started it: its address and the command to watch the
/// stream. Plain lines on the console, unless the console logs JSON lines
/// (<c>Logging:Console:FormatterName</c> <c>json</c>): then it is a log record (event 9004), so a
/// collector that reads standard output as JSON lines finds nothing else there.
/// </summary>
public static partial class ListeningBanner
{
    /// <summary>Shows the banner once the host has started.</summary>
    public static void ShowWhenStarted(WebApplication app) =>
        app.Lifetime.ApplicationStarted.Register(() => Show(app));

    private static void Show(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null) return;
        // In token mode every stream needs a bearer token (and the viewer, which sends none, cannot
        // read): the command shown says so rather than one that gets 401.
        var tokenMode = app.Services.GetRequiredService<IOptions<Auth.AuthOptions>>().Value.Mode == Auth.AuthMode.Token;
        var command = tokenMode
            ? $"curl -N -H \"Authorization: Bearer $TOKEN\" '{address}/api/v1/events?after=0'"
            : $"curl -N '{address}/api/v1/events?after=0'";
        var then = tokenMode
            ? "with a token from the issuer the hub trusts (Auth:*, docs/security.md)."
            : $"or open the live event viewer at {address}/";

        if (string.Equals(app.Configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase))
        {
            LogListening(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ListeningBanner)), address, command, then);
            return;
        }
        Console.WriteLine();
        Console.WriteLine($"EventHub is listening on {address}. Watch the stream with:");
        Console.WriteLine($"  {command}");
        Console.WriteLine(then);
        Console.WriteLine();
    }

    [LoggerMessage(EventId = 9004, Level = LogLevel.Information,
        Message = "EventHub is listening on {Address}. Watch the stream with: {Command} {Then}")]
    private static partial void LogListening(ILogger logger, string address, string command, string then);
}
