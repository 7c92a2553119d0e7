using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using EventHub.Cli;

// Ctrl+C and SIGTERM cancel the tail, which then prints the offset to resume from and exits 0.
// The handlers cancel instead of killing the process (context.Cancel = true).
using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

var useColor = ColorMode.ShouldUseColor(
    Console.IsOutputRedirected, Environment.GetEnvironmentVariable("NO_COLOR"), Environment.GetEnvironmentVariable("TERM"));
// Console.Out ignores a closed pipe (EPIPE), so `eventhub tail | head` would never end. Writing to
// fd 1 directly lets the write fail, and the tail stops when its reader has gone.
var stdout = Console.IsOutputRedirected
    ? new StreamWriter(new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1), new UTF8Encoding(false))
    : Console.Out;
var exitCode = await EventHubCli.RunAsync(args, stdout, Console.Error, useColor, stop.Token);
// Help and anything else written without a flush of its own (the writer over fd 1 buffers).
try { await stdout.FlushAsync(); } catch (IOException) { /* the reader has gone */ }
return exitCode;

void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
