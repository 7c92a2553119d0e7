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
var stdout = Console.IsOutputRedirected ? RedirectedOutput() : Console.Out;
var exitCode = await EventHubCli.RunAsync(args, stdout, Console.Error, useColor, stop.Token);
// Help and anything else written without a flush of its own (the writer buffers).
try
{
    await stdout.FlushAsync();
}
catch (IOException e)
{
    if (exitCode == EventHubCli.Ok && !EventHubCli.IsReaderGone(e)) exitCode = await EventHubCli.OutputFailedAsync(Console.Error, e);
}
return exitCode;

// A pipe or a socket: fd 1 written directly, since Console's stream ignores a closed pipe (EPIPE) and
// `eventhub tail | head` would never end; the write fails and the tail stops once its reader has
// gone. A file (or a device): Console's stream, which writes at the file's shared offset, so what
// stderr writes to the same file (`> out 2>&1`) and what came before (`{ ...; eventhub ...; } > out`)
// are kept; a FileStream writes at a position of its own, from 0, over them.
static TextWriter RedirectedOutput()
{
    // fd 1 is a POSIX idea: Windows' standard output is a handle of its own.
    if (OperatingSystem.IsWindows()) return new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
    var fd1 = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1);
    if (!fd1.CanSeek) return new StreamWriter(fd1, new UTF8Encoding(false));
    fd1.Dispose();
    return new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
}

void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
