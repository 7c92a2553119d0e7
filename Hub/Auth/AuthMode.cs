namespace EventHub.Auth;

/// <summary>How clients are authenticated (<c>Auth:Mode</c>).</summary>
public enum AuthMode
{
    /// <summary>No authentication: every client reads every project. Only on loopback unless overridden.</summary>
    Open,

    /// <summary>JWT bearer tokens; a claim lists the projects each token may read.</summary>
    Token,
}
