using System.CommandLine;
using EventHub.Client;
using EventHub.Contracts;

namespace EventHub.Cli;

/// <summary><c>eventhub tail</c>: follows the stream, one line per event, until Ctrl+C.</summary>
internal sealed class TailCommand
{
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly bool _useColor;

    private readonly HubOptions _hub = new("Write each event as one line of JSON instead of a human line.");

    private readonly Option<string?> _after = new("--after")
    {
        Description = "Start after this offset (as printed when a tail stops, or by eventhub state); 0 for the beginning. Default: from now.",
    };

    public TailCommand(TextWriter output, TextWriter error, bool useColor)
    {
        _output = output;
        _error = error;
        _useColor = useColor;
        _after.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string?>()))
                result.AddError("--after needs an offset, as printed when a tail stops, or 0 for the beginning.");
        });
        Command = new Command("tail", "Follow the change stream: catch-up from --after, then live, until Ctrl+C.");
        _hub.AddTo(Command);
        Command.Options.Add(_after);
        Command.SetAction(RunAsync);
    }

    public Command Command { get; }

    /// <summary>After a failure once events were printed: where to resume (the last one written out).</summary>
    private async Task ResumeHintAsync(string? printed)
    {
        if (printed is not null)
            await _error.WriteLineAsync($"eventhub: resume with: --after {printed}").ConfigureAwait(false);
    }

    private async Task<int> RunAsync(ParseResult parsed, CancellationToken cancellationToken)
    {
        var json = parsed.GetValue(_hub.Json);
        await using var client = new EventHubClient(_hub.ClientOptions(parsed, parsed.GetValue(_after)));
        var wasLive = false;
        client.StateChanged += (_, e) =>
        {
            // Status goes to stderr: stdout stays events only. Before the stream was ever live, the
            // one retry with a fresh token is not news: if the token file's token fails too, that
            // failure is the one line printed.
            wasLive |= e.Current == EventHubConnectionState.Live;
            if (!wasLive && e.Error is EventHubConnectionException { Code: "token_expired" or "unauthenticated" }) return;
            if (e.Current == EventHubConnectionState.Reconnecting && e.Error is EventHubConnectionException { Code: "token_expired" })
                _error.WriteLine("eventhub: the token expired; reconnecting with a fresh one…"); // routine with --token-file
            else if (e.Current == EventHubConnectionState.Reconnecting)
                _error.WriteLine($"eventhub: connection lost ({EventHubCli.OneLine(e.Error?.Message ?? "closed")}); reconnecting…");
            else if (e.Current == EventHubConnectionState.Live && e.Previous == EventHubConnectionState.Reconnecting)
                _error.WriteLine($"eventhub: reconnected; resuming after {client.LastOffset ?? "(now)"}");
        };

        string? printed = null; // the offset of the last event written out whole
        try
        {
            await foreach (var evt in client.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (evt is StreamReset reset)
                    await _error.WriteLineAsync($"eventhub: the hub reset the stream ({reset.Reason}): events between " +
                        $"{reset.PreviousOffset ?? "(now)"} and {reset.ContinueFrom} cannot be delivered; continuing after {reset.ContinueFrom}.")
                        .ConfigureAwait(false);
                await _output.WriteLineAsync(json ? EventFormatter.Json(evt) : EventFormatter.Human(evt, _useColor)).ConfigureAwait(false);
                await _output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                printed = evt.Offset;
            }
            return EventHubCli.Ok;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _error.WriteLineAsync(client.LastOffset is { } offset
                ? $"eventhub: stopped. Resume with: --after {offset}"
                : "eventhub: stopped before any event arrived.").ConfigureAwait(false);
            return EventHubCli.Ok;
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested && EventHubCli.IsReaderGone(e))
        {
            // stdout was closed (`eventhub tail | head`): the reader has what it wanted.
            return EventHubCli.Ok;
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Not the client's offset: it is already the event whose write failed.
            var exit = await EventHubCli.OutputFailedAsync(_error, e).ConfigureAwait(false);
            await ResumeHintAsync(printed).ConfigureAwait(false);
            return exit;
        }
        catch (EventHubException e)
        {
            var exit = await EventHubCli.FailedAsync(_error, e).ConfigureAwait(false);
            await ResumeHintAsync(printed).ConfigureAwait(false);
            return exit;
        }
    }
}
