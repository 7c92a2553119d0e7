using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A session was created (<c>session_created</c>).</summary>
public sealed class SessionCreated : SessionEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public SessionCreated()
    {
    }

    internal SessionCreated(ChangeEvent source) : base(source)
    {
    }
}
