using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A session's activity or termination changed (<c>session_updated</c>).</summary>
public sealed class SessionUpdated : SessionEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public SessionUpdated()
    {
    }

    internal SessionUpdated(ChangeEvent source) : base(source)
    {
    }
}
