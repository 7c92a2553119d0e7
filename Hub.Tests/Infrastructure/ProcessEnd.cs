using System.Diagnostics;
using System.Globalization;

namespace EventHub.Tests.Infrastructure;

/// <summary>How a test ends a process it started (the hub, the <c>eventhub</c> tool); each waits until it is gone.</summary>
public static class ProcessEnd
{
    /// <summary>SIGTERM, as an operator or Ctrl+C stops it: a graceful shutdown.</summary>
    public static async Task TerminateAsync(Process process)
    {
        if (!process.HasExited)
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();
        await process.WaitForExitAsync().WithTimeout();
    }

    /// <summary>SIGKILL, with its children: no graceful shutdown.</summary>
    public static async Task KillAsync(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
        await process.WaitForExitAsync().WithTimeout();
    }
}
