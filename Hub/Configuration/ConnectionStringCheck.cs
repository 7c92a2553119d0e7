using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.Configuration;

/// <summary>
/// The start-up check of <c>ConnectionStrings:EventHub</c> and <c>ConnectionStrings:EventHubReplica</c>:
/// one that Npgsql cannot read (an unknown keyword, <c>Timeout=-3</c>, <c>Maximum Pool Size=abc</c>,
/// multiplexing without pooling, no host) stops the start with an error that names the setting and
/// Npgsql's reason, like every other refused setting (Program prints it as one line and exits with 2).
/// Without it the hub's pools read the string while its services were being added, and the start
/// crashed with an unhandled exception and its stack (exit code 134).
/// </summary>
public static class ConnectionStringCheck
{
    /// <summary>
    /// Throws <see cref="OptionsValidationException"/> for each configured connection string Npgsql
    /// refuses. Runs before the private cluster starts: a bad replica string does not start it for nothing.
    /// </summary>
    public static void ThrowIfUnreadable(IConfiguration configuration)
    {
        var failures = new List<string>();
        foreach (var name in new[] { EventHubApp.ConnectionStringName, EventHubApp.ReplicaConnectionStringName })
        {
            var connectionString = configuration.GetConnectionString(name);
            if (string.IsNullOrWhiteSpace(connectionString)) continue; // none: the private cluster, or no replica
            if (Refusal(connectionString) is { } reason)
                failures.Add($"ConnectionStrings:{name} is not a connection string Npgsql accepts: {reason} " +
                    "Correct it (its keywords: https://www.npgsql.org/doc/connection-string-parameters.html).");
        }
        if (failures.Count > 0) throw new OptionsValidationException("ConnectionStrings", typeof(ConnectionStringCheck), failures);
    }

    /// <summary>
    /// Why Npgsql refuses <paramref name="connectionString"/>, or null. Npgsql's messages name the
    /// keyword and its value, never the whole string, so the reason carries no password the string
    /// holds (but see <see cref="FollowsPassword"/>); the string itself is never echoed.
    /// </summary>
    public static string? Refusal(string connectionString)
    {
        try
        {
            // The builder reads each keyword and value; building a data source checks them together
            // (multiplexing needs pooling, a host is required). Neither connects.
            var settings = new NpgsqlConnectionStringBuilder(connectionString);
            using var dataSource = new NpgsqlDataSourceBuilder(settings.ConnectionString).Build();
            return null;
        }
        catch (ArgumentException e) when (e.ParamName is { } keyword && FollowsPassword(connectionString, keyword))
        {
            // Npgsql's own message would print the keyword and its value, maybe the rest of the password.
            return e.InnerException is KeyNotFoundException
                ? "the keyword after Password is not one Npgsql knows. A password that holds ';' must be quoted (Password='...')."
                : $"Couldn't set {keyword} (its value is not shown: it follows Password and may be the rest of a password; " +
                  "a password that holds ';' must be quoted: Password='...').";
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            return OneLine(e);
        }
    }

    /// <summary>
    /// Whether the keyword Npgsql refused comes right after the password: in <c>Password=se;cret=x</c>
    /// (or <c>Password=se;port=cret</c>) the "keyword" and its value are the rest of an unquoted
    /// password, and Npgsql's message would print them. A known keyword there (<c>Password=p;Timeout=-3</c>)
    /// is most likely a setting of its own: it is still named, its value not.
    /// </summary>
    private static bool FollowsPassword(string connectionString, string keyword)
    {
        try
        {
            var previous = "";
            // The keys in the order the string gives them (lower-cased, as Npgsql names them).
            foreach (string key in new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys)
            {
                if (string.Equals(key, keyword, StringComparison.OrdinalIgnoreCase))
                    return previous is "password" or "pwd";
                previous = key.ToLowerInvariant();
            }
            return false;
        }
        catch (ArgumentException)
        {
            return false; // not even key=value pairs: the refusal is the format's, which names no value
        }
    }

    // "Couldn't set timeout (Parameter 'timeout')" says which keyword; its inner exception says why
    // ("value ('-3') must be a non-negative value"). Some span lines ("Actual value was -3."): the
    // refusal is printed as one.
    private static string OneLine(Exception e)
    {
        var reasons = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
            reasons.Add(current is KeyNotFoundException
                ? "not a keyword Npgsql knows." // its own message is "The given key was not present in the dictionary."
                : string.Join(" ", current.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        var reason = string.Join(": ", reasons);
        return reason.EndsWith('.') ? reason : reason + ".";
    }
}
