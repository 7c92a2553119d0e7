using System.CommandLine;
using EventHub.Client;

namespace EventHub.Cli;

/// <summary>
/// The <c>eventhub</c> command line. <see cref="RunAsync"/> is the whole program minus the
/// console: tests run it in-process with their own writers and token.
/// </summary>
public static class EventHubCli
{
    /// <summary>Exit code: done, or stopped by Ctrl+C.</summary>
    public const int Ok = 0;

    /// <summary>Exit code: the hub could not be reached, the reconnect policy gave up, or the output could not be written.</summary>
    public const int Unreachable = 1;

    /// <summary>Exit code: bad arguments, or a request the hub rejected.</summary>
    public const int Usage = 2;

    /// <summary>The URL used when neither <c>--url</c> nor <c>EVENTHUB_URL</c> is given: the hub's default listen address.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Parses <paramref name="args"/> and runs the command; every error is one line on <paramref name="error"/>.</summary>
    /// <param name="args">The command-line arguments, for example <c>tail --project ao --json</c> or <c>state --project ao</c>.</param>
    /// <param name="output">Where events go (stdout).</param>
    /// <param name="error">Where errors, status and the resume offset go (stderr), keeping <paramref name="output"/> clean for scripts.</param>
    /// <param name="useColor">Whether human output is coloured (see <see cref="ColorMode"/>).</param>
    /// <param name="cancellationToken">Stops a running tail (Ctrl+C).</param>
    /// <returns>The exit code: <see cref="Ok"/>, <see cref="Unreachable"/> or <see cref="Usage"/>.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, bool useColor,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var tail = new TailCommand(output, error, useColor);
        var state = new StateCommand(output, error, useColor);
        var root = new RootCommand("EventHub command-line tools.") { tail.Command, state.Command };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command is { Parents: { } parents } c && parents.Any() ? c.Name : null;
            // "eventhub tial" has two errors, "Required command was not provided." first: the
            // unrecognized word says what is wrong.
            var first = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal))
                ?? parsed.Errors[0];
            await error.WriteLineAsync($"eventhub: {OneLine(first.Message)} (see 'eventhub {(command is null ? "" : command + " ")}--help')")
                .ConfigureAwait(false);
            return Usage;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                // Program.cs handles Ctrl+C itself and cancels the token; no forced exit.
                ProcessTerminationTimeout = null,
                EnableDefaultExceptionHandler = false,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Last resort: still one line and no stack trace.
            await error.WriteLineAsync($"eventhub: unexpected error: {OneLine(e.Message)}").ConfigureAwait(false);
            return Unreachable;
        }
    }

    /// <summary>
    /// A failure the client reports, as one line on <paramref name="error"/>; the exit code:
    /// <see cref="Usage"/> for a request the hub rejected, <see cref="Unreachable"/> for a hub that
    /// could not be reached (or a reconnect policy that gave up).
    /// </summary>
    internal static async Task<int> FailedAsync(TextWriter error, EventHubException failure)
    {
        // A hub in token mode refuses a command without a token as "unauthenticated": say how to give one.
        var hint = failure is EventHubRequestException { Code: "unauthenticated" or "token_expired" }
            ? " A hub in token mode needs a valid bearer token: give it with --token-file, $EVENTHUB_TOKEN or --token."
            : "";
        await error.WriteLineAsync($"eventhub: {OneLine(failure.Message)}{hint}").ConfigureAwait(false);
        return failure is EventHubRequestException ? Usage : Unreachable;
    }

    /// <summary>
    /// Whether a failed write to stdout means its reader has gone (a closed pipe: <c>eventhub tail | head</c>),
    /// which ends the command as done; any other failure (a full disk) is an error.
    /// </summary>
    internal static bool IsReaderGone(IOException e) =>
        e.HResult is 32 // EPIPE (Linux, macOS)
            or unchecked((int)0x8007006D) or unchecked((int)0x800700E8); // ERROR_BROKEN_PIPE, ERROR_NO_DATA (Windows)

    /// <summary>A write to stdout that failed for another reason than a gone reader: one line, and exit code <see cref="Unreachable"/>.</summary>
    internal static async Task<int> OutputFailedAsync(TextWriter error, IOException e)
    {
        await error.WriteLineAsync($"eventhub: could not write the output: {OneLine(e.Message)}").ConfigureAwait(false);
        return Unreachable;
    }

    /// <summary>A message on one line (exception texts may span several).</summary>
    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
