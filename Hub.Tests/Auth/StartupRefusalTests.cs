using System.Diagnostics;
using EventHub.Auth;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventHub.Tests.Auth;

/// <summary>Open mode starts only on loopback unless overridden; token mode needs a key. Nothing here binds a network address.</summary>
public sealed class StartupRefusalTests
{
    // Validation fails before anything connects to it.
    private const string UnusedDatabase = "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d";

    public static TheoryData<string, string, string> ExposedListenSettings => new()
    {
        { "Urls", "http://0.0.0.0:0", "http://0.0.0.0:0" },
        { "Urls", "http://[::]:0", "http://[::]:0" },
        { "Urls", "http://*:0", "http://*:0" },
        { "Urls", "http://+:0", "http://+:0" },
        { "Urls", "http://127.0.0.1:0;http://192.0.2.10:0", "http://192.0.2.10:0" },
        { "Urls", "http://example.com:0", "http://example.com:0" },
        // Not a Unix socket (that needs a path: http://unix:/run/hub.sock): Kestrel reads a host
        // named "unix" and binds every interface.
        { "Urls", "http://unix:0", "http://unix:0" },
        { "Kestrel:Endpoints:Web:Url", "http://0.0.0.0:0", "http://0.0.0.0:0" },
        { "http_ports", "8080", "http://*:8080" },
    };

    [Theory]
    [MemberData(nameof(ExposedListenSettings))]
    public async Task Open_mode_refuses_to_start_on_a_non_loopback_address_and_names_the_setting(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            HubServer.StartAsync(UnusedDatabase, new Dictionary<string, string?> { [key] = value }));
        Assert.Contains("Refusing to start without authentication", error.Message);
        Assert.Contains(named, error.Message);
        Assert.Contains("Auth:Mode=Token", error.Message);
        Assert.Contains("Auth:AllowOpenOnNetwork=true", error.Message);
    }

    public static TheoryData<Dictionary<string, string?>, string> BadTokenSettings => new()
    {
        { new() { ["Auth:Mode"] = "Token" }, "Auth:SigningKey" },
        { new() { ["Auth:Mode"] = "Token", ["Auth:SigningKey"] = "short" }, "at least 32 bytes" },
        { new() { ["Auth:Mode"] = "Token", ["Auth:SigningKey"] = TestTokens.SigningKey, ["Auth:Authority"] = "https://idp.example" }, "exactly one key source" },
        { TokenSettingsWithout("Auth:Audience"), "Auth:Audience" },
        { TokenSettingsWithout("Auth:Issuer"), "Auth:Issuer" },
        { TokenSettingsWith("Auth:SigningKey", "a secret of at least 32 bytes...."), "openssl rand -base64 32" },
        { TokenSettingsWith("Auth:SigningKey", "  A SECRET OF AT LEAST 32 BYTES....  "), "openssl rand -base64 32" },
        { TokenSettingsWith("Auth:Algorithms:0", "RS256"), "Auth:Algorithms" },
        { new() { ["Auth:Mode"] = "Token", ["Auth:Authority"] = "https://idp.example", ["Auth:Audience"] = "eventhub", ["Auth:Algorithms:0"] = "HS256" }, "Auth:Algorithms" },
        { new() { ["Auth:Mode"] = "Token", ["Auth:Authority"] = "https://idp.example", ["Auth:Audience"] = "eventhub", ["Auth:Algorithms:0"] = "none" }, "Auth:Algorithms" },
        { new() { ["Limits:MaxConnectionsPerPrincipal"] = "0" }, "Limits:MaxConnectionsPerPrincipal" },
        { new() { ["Limits:MaxStreamsPerConnection"] = "0" }, "Limits:MaxStreamsPerConnection" },
        { new() { ["Cors:AllowedOrigins:0"] = "*" }, "Cors:AllowedOrigins" },
        // Kestrel reads a port that is not a number as part of the host name and binds every
        // interface on the scheme's port (80): named as the address it is, in either mode.
        { new() { ["Urls"] = "http://127.0.0.1:notaport" }, "'http://127.0.0.1:notaport' is not an address" },
        { new() { ["Urls"] = "http://127.0.0.1:0;http://localhost:99999" }, "'http://localhost:99999' is not an address" },
        { TokenSettingsWith("Urls", "http://[::1]:port"), "'http://[::1]:port' is not an address" },
        { new() { ["Kestrel:Endpoints:Web:Url"] = "127.0.0.1:5080" }, "'127.0.0.1:5080' is not an address" },
    };

    private static Dictionary<string, string?> TokenSettingsWithout(string key)
    {
        var settings = TestTokens.TokenModeSettings();
        settings.Remove(key);
        return settings;
    }

    private static Dictionary<string, string?> TokenSettingsWith(string key, string value)
    {
        var settings = TestTokens.TokenModeSettings();
        settings[key] = value;
        return settings;
    }

    [Theory]
    [MemberData(nameof(BadTokenSettings))]
    public async Task A_bad_setting_stops_the_start_and_the_error_names_it(Dictionary<string, string?> settings, string says)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => HubServer.StartAsync(UnusedDatabase, settings));
        Assert.Contains(says, error.Message);
    }

    public static TheoryData<string, string, string> UnreadableConnectionStrings => new()
    {
        { "ConnectionStrings:EventHub", "Password=" + ConnectionStringPassword + ";Host=127.0.0.1;Timeout=-3", "must be a non-negative value" },
        { "ConnectionStrings:EventHub", "Password=" + ConnectionStringPassword + ";Host=127.0.0.1;Maximum Pool Size=abc", "Couldn't set maximum pool size" },
        { "ConnectionStrings:EventHub", "Host=127.0.0.1;Password=" + ConnectionStringPassword + ";Multiplexing=true;Pooling=false", "Pooling must be on to use multiplexing" },
        { "ConnectionStrings:EventHub", "Host=127.0.0.1;Password='" + ConnectionStringPassword, "Format of the initialization string" },
        { "ConnectionStrings:EventHubReplica", "Hostx=1;Password=" + ConnectionStringPassword, "Couldn't set hostx" },
        { "ConnectionStrings:EventHubReplica", "Port=1;Password=" + ConnectionStringPassword, "Host" },
        // An unquoted password holding ';': what follows it is no keyword, and Npgsql's message would print it.
        { "ConnectionStrings:EventHub", "Host=127.0.0.1;Password=hunter2;not-for-logs=x", "password that holds ';' must be quoted" },
        { "ConnectionStrings:EventHub", "Host=127.0.0.1;Password=hunter2;port=not-for-logs", "password that holds ';' must be quoted" },
    };

    private const string ConnectionStringPassword = "hunter2-not-for-logs";

    [Theory]
    [MemberData(nameof(UnreadableConnectionStrings))]
    public async Task A_connection_string_Npgsql_cannot_read_stops_the_start_with_the_setting_and_the_reason_but_not_the_string(
        string key, string value, string reason)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            HubServer.StartAsync(UnusedDatabase, new Dictionary<string, string?> { [key] = value }));
        Assert.DoesNotContain(ConnectionStringPassword, error.Message);
        Assert.DoesNotContain("not-for-logs", error.Message);
        Assert.DoesNotContain(value, error.Message);
        Assert.Contains(key + " ", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Theory]
    [InlineData("MaxConnectionsPerToken", null, 7)]
    [InlineData(null, "MaxConnectionsPerPrincipal", 9)]
    [InlineData("MaxConnectionsPerToken", "MaxConnectionsPerPrincipal", 9)]
    [InlineData(null, null, 32)]
    public void The_former_setting_Limits_MaxConnectionsPerToken_still_sets_the_per_principal_limit_and_the_new_name_wins(
        string? former, string? current, int expected)
    {
        var values = new Dictionary<string, string?>();
        if (former is not null) values["Limits:" + former] = "7";
        if (current is not null) values["Limits:" + current] = "9";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var limits = new LimitsOptions();
        LimitsOptions.Bind(configuration.GetSection(LimitsOptions.Section), limits);
        Assert.Equal(expected, limits.MaxConnectionsPerPrincipal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://127.1.2.3:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("https://LOCALHOST", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://unix:/run/eventhub.sock", true)]
    [InlineData("http://unix:5080", false)]
    [InlineData("https://unix:5080", false)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://[::]:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://10.0.0.1:5080", false)]
    [InlineData("http://localhost.example.com:5080", false)]
    [InlineData("http://[::ffff:10.0.0.1]:5080", false)]
    [InlineData("garbage", false)]
    public void Only_localhost_127_0_0_0_8_and_IPv6_loopback_count_as_loopback(string url, bool loopback) =>
        Assert.Equal(loopback, ListenAddresses.IsLoopback(url));

    [Fact]
    public async Task The_explicit_override_lets_open_mode_start_on_a_network_address_and_logs_a_warning()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://0.0.0.0:5080",
        }).Build();
        var options = new AuthOptions { AllowOpenOnNetwork = true };
        Assert.True(new AuthOptionsValidator(configuration).Validate(null, options).Succeeded);
        Assert.False(new AuthOptionsValidator(configuration).Validate(null, new AuthOptions()).Succeeded);

        var sink = new LogSink();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(sink));
        await new AuthStartupReport(Options.Create(options), configuration, loggers.CreateLogger<AuthStartupReport>())
            .StartAsync(CancellationToken.None);
        var warning = Assert.Single(sink.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("Auth:AllowOpenOnNetwork", warning.Message);
        Assert.Contains("http://0.0.0.0:5080", warning.Message);
    }

    [Theory]
    [InlineData("--urls", "http://0.0.0.0:0", "Refusing to start without authentication", "Auth:AllowOpenOnNetwork")]
    [InlineData("--Stream:SubscriberBufferCapacity", "0", "", "Stream:SubscriberBufferCapacity")]
    [InlineData("--Sse:KeepAliveInterval", "00:00:00", "", "Sse:KeepAliveInterval")]
    [InlineData("--State:EntityKeys:tracker_item:Kind", "tracker", "", "State:EntityKeys:tracker_item:Fields")]
    [InlineData("--ConnectionStrings:EventHubReplica", "Hostx=1;Password=" + ConnectionStringPassword, "", "ConnectionStrings:EventHubReplica")]
    public async Task The_hub_process_prints_a_bad_start_as_one_line_that_names_the_setting_and_exits_non_zero(
        string setting, string value, string says, string names)
    {
        var (exitCode, stdout, stderr) = await HubProcess.RunToExitAsync(
            ["--urls", "http://127.0.0.1:0", setting, value, $"--ConnectionStrings:EventHub={UnusedDatabase}"], TimeSpan.FromSeconds(60));
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, exitCode);
        var line = Assert.Single(lines);
        Assert.StartsWith("EventHub did not start: " + says, line);
        Assert.Contains(names, line);
        Assert.DoesNotContain("   at ", stdout + line);
        Assert.DoesNotContain(ConnectionStringPassword, stdout + stderr);
    }
}
