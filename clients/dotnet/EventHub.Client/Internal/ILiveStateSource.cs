using EventHub.Contracts;

namespace EventHub.Client.Internal;

/// <summary>
/// What <see cref="EventHubLiveState"/> needs of a client: the state, repositioning the stream at
/// its offset, and the stream. <see cref="EventHubClient"/> is the one implementation; a unit test
/// gives a fake.
/// </summary>
internal interface ILiveStateSource
{
    /// <summary>The state of the source's selection (<see cref="EventHubClient.GetStateAsync"/>).</summary>
    Task<LiveState> GetStateAsync(CancellationToken cancellationToken);

    /// <summary>The next enumeration streams after <paramref name="offset"/> (<see cref="EventHubClient.ResumeAfter"/>).</summary>
    void ResumeAfter(string offset);

    /// <summary>The stream, typed, with <see cref="StreamReset"/> items (<see cref="EventHubClient.ReadAllAsync"/>).</summary>
    IAsyncEnumerable<ChangeEvent> ReadAllAsync(CancellationToken cancellationToken);
}
