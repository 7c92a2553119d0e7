namespace EventHub.Client;

/// <summary>What an <see cref="IEventHubReconnectPolicy"/> knows when it picks the next delay.</summary>
/// <param name="Attempt">
/// The reconnect attempt about to be made, from 1 (the connection that failed or was lost is not
/// counted: attempt 1 follows it). It counts attempts since the client last made progress
/// (received an event, or stayed connected for a while), so a hub that accepts connections and
/// drops them at once is retried with a growing delay.
/// </param>
/// <param name="Elapsed">How long the client has been trying since it last made progress.</param>
/// <param name="LastError">Why the previous connection or attempt failed.</param>
public readonly record struct EventHubReconnectContext(int Attempt, TimeSpan Elapsed, Exception LastError);
