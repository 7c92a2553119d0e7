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
    /// holds; the string itself is never echoed.
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
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            return OneLine(e);
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
