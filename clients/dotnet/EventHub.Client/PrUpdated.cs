using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A pull request's state, CI, review or mergeability changed (<c>pr_updated</c>).</summary>
public sealed class PrUpdated : PrStateEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public PrUpdated()
    {
    }

    internal PrUpdated(ChangeEvent source) : base(source)
    {
    }
}
