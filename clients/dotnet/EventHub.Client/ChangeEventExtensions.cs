using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>The typed accessor for events that did not come through <see cref="EventHubClient"/> (SSE, a store, a test).</summary>
public static class ChangeEventExtensions
{
    /// <summary>
    /// The typed event for one of the eight known types (<see cref="SessionCreated"/>,
    /// <see cref="PrUpdated"/>, …); for any other type, or an event already typed, the event itself.
    /// Never throws: a payload field that is missing or of another kind reads as its default.
    /// </summary>
    /// <param name="changeEvent">The event as the hub sent it.</param>
    public static ChangeEvent ToTyped(this ChangeEvent changeEvent)
    {
        ArgumentNullException.ThrowIfNull(changeEvent);
        if (changeEvent is TypedChangeEvent) return changeEvent;
        return changeEvent.Type switch
        {
            EventTypes.SessionCreated => new SessionCreated(changeEvent),
            EventTypes.SessionUpdated => new SessionUpdated(changeEvent),
            EventTypes.PrCreated => new PrCreated(changeEvent),
            EventTypes.PrUpdated => new PrUpdated(changeEvent),
            EventTypes.PrSessionChanged => new PrSessionChanged(changeEvent),
            EventTypes.PrCheckRecorded => new PrCheckRecorded(changeEvent),
            EventTypes.PrReviewThreadAdded => new PrReviewThreadAdded(changeEvent),
            EventTypes.PrReviewThreadResolved => new PrReviewThreadResolved(changeEvent),
            _ => changeEvent,
        };
    }
}
