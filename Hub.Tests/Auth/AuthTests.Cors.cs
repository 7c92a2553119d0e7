using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

public sealed partial class AuthTests
{
    [Theory]
    [InlineData(false, "http://localhost:5173", true)]
    [InlineData(false, "http://127.0.0.1:8080", true)]
    [InlineData(false, "http://[::1]:3000", true)]
    [InlineData(false, "https://evil.example", false)]
    [InlineData(false, "http://localhost.evil.example", false)]
    [InlineData(true, "http://localhost:5173", false)] // token mode: none but configured origins (issue 6)
    [InlineData(true, "http://127.0.0.1:8080", false)]
    [InlineData(true, "http://localhost.evil.example", false)]
    [InlineData(true, "https://evil.example", false)]
    public async Task Without_configured_origins_open_mode_allows_only_loopback_origins_and_token_mode_none(bool tokenMode, string origin, bool allowed)
    {
        var response = await LimitsAndCorsTests.PreflightAsync(fixture.Hub(tokenMode).BaseAddress, "/hubs/events/negotiate", origin);
        Assert.Equal(allowed ? origin : null,
            response.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) ? v.Single() : null);
        if (allowed) Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
    }
}
