using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A pull request was recorded (<c>pr_created</c>).</summary>
public sealed class PrCreated : PrStateEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public PrCreated()
    {
    }

    internal PrCreated(ChangeEvent source) : base(source)
    {
    }
}
