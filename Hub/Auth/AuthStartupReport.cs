using Microsoft.Extensions.Options;

namespace EventHub.Auth;

/// <summary>Logs the authentication mode at start-up, and a warning when open mode is exposed on purpose.</summary>
internal sealed partial class AuthStartupReport(IOptions<AuthOptions> options, IConfiguration configuration,
    ILogger<AuthStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.Mode == AuthMode.Token)
        {
            LogTokenMode(logger, string.IsNullOrEmpty(o.SigningKey) ? "OIDC authority" : "HS256 signing key", o.Audience ?? "", o.ProjectsClaim);
            return Task.CompletedTask;
        }
        var exposed = ListenAddresses.From(configuration).Where(u => !ListenAddresses.IsLoopback(u)).ToArray();
        if (exposed.Length > 0)
            LogOpenOnNetwork(logger, string.Join(", ", exposed));
        else
            LogOpenMode(logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 8010, Level = LogLevel.Information, Message = "Authentication: open mode on loopback; every local client reads every project.")]
    private static partial void LogOpenMode(ILogger logger);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Warning, Message = "Authentication is OFF on a network address ({Addresses}) because Auth:AllowOpenOnNetwork=true: anyone who reaches the hub reads every project. Set Auth:Mode=Token to require tokens.")]
    private static partial void LogOpenOnNetwork(ILogger logger, string addresses);

    [LoggerMessage(EventId = 8012, Level = LogLevel.Information, Message = "Authentication: bearer tokens ({KeySource}) for audience '{Audience}'; projects from the '{Claim}' claim.")]
    private static partial void LogTokenMode(ILogger logger, string keySource, string audience, string claim);
}
