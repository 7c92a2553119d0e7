using System.Diagnostics;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// The hub as a process of its own (the build the tests reference), for what one process cannot
/// show: a node that dies without a word, or the runtime's behaviour under its own settings.
/// </summary>
public static class HubProcess
{
    /// <summary>Starts the hub on a free loopback port against <paramref name="connectionString"/>, with extra environment variables.</summary>
    public static Process Start(string connectionString, IReadOnlyDictionary<string, string>? environment = null)
    {
        var hubDll = typeof(EventHubApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(hubDll)!,
        };
        foreach (var arg in new[] { hubDll, "--urls", "http://127.0.0.1:0", $"--ConnectionStrings:EventHub={connectionString}" })
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Stops the process as an operator would (SIGTERM) and waits for it to exit.</summary>
    public static async Task StopAsync(Process process, TimeSpan timeout)
    {
        if (process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
    }
}
