namespace EventHub.Auth;

/// <summary>
/// Browser origins allowed to call the hub (section <c>Cors</c>). When <see cref="AllowedOrigins"/>
/// is empty: none in token mode; loopback origins only (<c>http(s)://localhost|127.x.x.x|[::1]</c>, any port) in open mode.
/// </summary>
public sealed class CorsSettings
{
    public const string Section = "Cors";

    /// <summary>Exact origins (<c>https://dashboard.example.com</c>), scheme, host and port.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}
