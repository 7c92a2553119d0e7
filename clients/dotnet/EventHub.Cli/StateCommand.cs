using System.CommandLine;
using EventHub.Client;

namespace EventHub.Cli;

/// <summary>
/// <c>eventhub state</c>: what is true now, one line per entity (its latest event), and on stderr
/// the offset the state is exact at, from which <c>eventhub tail --after</c> follows the changes.
/// </summary>
internal sealed class StateCommand
{
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly bool _useColor;

    private readonly HubOptions _hub = new("Write each entity as one line of JSON ({\"kind\",\"key\",\"event\"}) instead of a human line.");

    public StateCommand(TextWriter output, TextWriter error, bool useColor)
    {
        _output = output;
        _error = error;
        _useColor = useColor;
        Command = new Command("state",
            "Print the live state: the latest event of every session, PR, check and review thread, then the offset to tail from.");
        _hub.AddTo(Command);
        Command.SetAction(RunAsync);
    }

    public Command Command { get; }

    private async Task<int> RunAsync(ParseResult parsed, CancellationToken cancellationToken)
    {
        var json = parsed.GetValue(_hub.Json);
        await using var client = new EventHubClient(_hub.ClientOptions(parsed));
        try
        {
            var state = await client.GetStateAsync(cancellationToken).ConfigureAwait(false);
            // The hub sends the entities in no particular order: a stable one for people and diffs.
            foreach (var entity in state.Entities
                         .OrderBy(e => e.Event.ProjectId, StringComparer.Ordinal)
                         .ThenBy(e => e.Kind, StringComparer.Ordinal)
                         .ThenBy(e => e.Key, StringComparer.Ordinal))
                await _output.WriteLineAsync(json ? EventFormatter.Json(entity) : EventFormatter.Human(entity.Event, _useColor))
                    .ConfigureAwait(false);
            await _output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (state.UnkeyedTypes.Count > 0)
                await _error.WriteLineAsync($"eventhub: left out, no entity key configured: {string.Join(", ", state.UnkeyedTypes)}")
                    .ConfigureAwait(false);
            await _error.WriteLineAsync($"eventhub: {state.Entities.Count} entities as of {state.Offset}. " +
                $"Follow the changes with: --after {state.Offset}").ConfigureAwait(false);
            return EventHubCli.Ok;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _error.WriteLineAsync("eventhub: stopped before the state arrived.").ConfigureAwait(false);
            return EventHubCli.Ok;
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested && EventHubCli.IsReaderGone(e))
        {
            // stdout was closed (`eventhub state | head`): the reader has what it wanted.
            return EventHubCli.Ok;
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            return await EventHubCli.OutputFailedAsync(_error, e).ConfigureAwait(false);
        }
        catch (EventHubException e)
        {
            return await EventHubCli.FailedAsync(_error, e).ConfigureAwait(false);
        }
    }
}
