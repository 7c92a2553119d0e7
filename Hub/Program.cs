using EventHub;
using Microsoft.Extensions.Options;

WebApplication? app = null;
try
{
    app = await EventHubApp.BuildAsync(args);
    EventHub.Operations.ListeningBanner.ShowWhenStarted(app);
    // The checks that StartAsync would run, run first here so that a refusal is one line rather
    // than the host's "Hosting failed to start" with a stack trace.
    app.Services.GetService<IStartupValidator>()?.Validate();
    await app.StartAsync();
}
catch (OptionsValidationException e)
{
    // A refused configuration (for example open mode on a network address): one line naming the
    // setting, no stack trace, a non-zero exit.
    return await FailedAsync(2, string.Join(" ", e.Failures));
}
catch (EventHub.Auth.ExposedOpenModeException e)
{
    // Open mode found itself bound to a network address (the configuration did not say so).
    return await FailedAsync(2, e.Message);
}
catch (InvalidOperationException e) when (e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
{
    return await FailedAsync(2, e.Message);
}
catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // Another process listens on a configured address: one line, not the host's stack trace.
    return await FailedAsync(2, $"{e.Message} Stop what listens there, or give the hub another address (Urls, Management:Urls).");
}
catch (EventHub.Storage.DatabaseStartupException e)
{
    // Waited Database:StartupWait for a database it could not reach, or the database refused it:
    // one line, not a crash dump (the host's own log of the failed start prints no stack for these).
    return await FailedAsync(3, e.Message);
}
catch (Npgsql.NpgsqlException e)
{
    // What waiting cannot mend (a wrong password, a database that does not exist).
    return await FailedAsync(3, $"the database refused it ({e.Message}). Check ConnectionStrings:EventHub.");
}
catch (Exception e) when (e is System.Net.Sockets.SocketException || e.InnerException is System.Net.Sockets.SocketException)
{
    // An address the system will not bind (an IPv4-mapped IPv6 address such as [::ffff:127.0.0.1],
    // a port the process may not use): one line, not an unhandled exception's stack. After the
    // database's catches: a database that cannot be reached fails with a SocketException inside too.
    return await FailedAsync(2, $"could not listen on a configured address: {e.Message}. Give the hub another address (Urls, Management:Urls).");
}
catch (OperationCanceledException)
{
    // Stopped (SIGTERM, Ctrl+C) before it had started, for example while it waited for its database.
    Console.Error.WriteLine("EventHub stopped before it had started.");
    await StopFailedStartAsync();
    return 0;
}
catch (Exception) when (app is not null)
{
    // Any other failure to start: the host's report as before, but not with the private
    // PostgreSQL left running.
    await StopFailedStartAsync();
    throw;
}
await app.WaitForShutdownAsync();
await app.DisposeAsync();
return 0;

async Task<int> FailedAsync(int exitCode, string reason)
{
    Console.Error.WriteLine($"EventHub did not start: {reason}");
    await StopFailedStartAsync();
    return exitCode;
}

// A start that failed after the host was built (an address in use, a database that went away)
// stops what it had started: the hosted services, and the private PostgreSQL, which stops at
// ApplicationStopped and was left running for the next start to find.
async Task StopFailedStartAsync()
{
    if (app is null) return;
    try
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StopAsync(bound.Token);
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        // Stopping what failed to start: nothing more to say than the line above.
    }
    try
    {
        await app.DisposeAsync();
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        // As above.
    }
}

/// <summary>Entry point (public for the tests).</summary>
public partial class Program;
