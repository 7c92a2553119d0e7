using Microsoft.Extensions.Options;

namespace EventHub.Auth;

/// <summary>
/// Start-up checks of <see cref="CrossSiteOptions"/> (run by <c>ValidateOnStart</c>): entries are
/// host names, and a hub listening on a network address names the hosts its clients use, since
/// otherwise <see cref="CrossSiteGuard"/> would refuse every request that addresses it by name.
/// </summary>
public sealed class CrossSiteOptionsValidator(IConfiguration configuration) : IValidateOptions<CrossSiteOptions>
{
    public ValidateOptionsResult Validate(string? name, CrossSiteOptions options)
    {
        // A refused Auth section (open mode on a network address, a missing key, a bad value) is
        // reported alone, with its own message: the host reports one options failure as one line.
        if (!AuthIsValid(out var a)) return ValidateOptionsResult.Skip;

        var failures = new List<string>();
        var bad = options.AllowedHosts.Where(h => !IsHostPattern(h.Trim())).ToArray();
        if (bad.Length > 0)
            failures.Add($"Security:AllowedHosts must list host names without scheme or port (hub.example.com, *.example.com, or * alone); " +
                $"not: {string.Join(", ", bad)}.");

        var exposed = ListenAddresses.From(configuration).Where(u => !ListenAddresses.IsLoopback(u)).ToArray();
        if (exposed.Length > 0 && options.AllowedHosts.All(string.IsNullOrWhiteSpace))
            failures.Add($"Security:AllowedHosts is empty but the hub would listen on {string.Join(", ", exposed)}, which is not loopback: " +
                "every request addressed by a host name other than localhost would get 403 host_not_allowed (the DNS-rebinding guard). " +
                "Set Security:AllowedHosts to the names clients use (Security:AllowedHosts:0=hub.example.com, or *.example.com), " +
                "or to * when a proxy in front checks the Host header.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private bool AuthIsValid(out AuthOptions auth)
    {
        auth = new AuthOptions();
        try
        {
            configuration.GetSection(AuthOptions.Section).Bind(auth);
        }
        catch (InvalidOperationException)
        {
            return false; // a value that does not convert: the host reports it
        }
        return new AuthOptionsValidator(configuration).Validate(null, auth).Succeeded;
    }

    private static bool IsHostPattern(string host)
    {
        if (host == "*") return true;
        var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
        if (name.StartsWith('[') && name.EndsWith(']')) return Uri.CheckHostName(name[1..^1]) == UriHostNameType.IPv6;
        return name.Length > 0 && Uri.CheckHostName(name) is UriHostNameType.Dns or UriHostNameType.IPv4;
    }
}
