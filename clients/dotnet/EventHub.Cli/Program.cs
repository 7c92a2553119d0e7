using System.Runtime.InteropServices;
using EventHub.Cli;

// Ctrl+C and SIGTERM cancel the tail, which then prints the offset to resume from and exits 0.
// The handlers cancel instead of killing the process (context.Cancel = true).
using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

var useColor = ColorMode.ShouldUseColor(
    Console.IsOutputRedirected, Environment.GetEnvironmentVariable("NO_COLOR"), Environment.GetEnvironmentVariable("TERM"));
return await EventHubCli.RunAsync(args, Console.Out, Console.Error, useColor, stop.Token);

void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
