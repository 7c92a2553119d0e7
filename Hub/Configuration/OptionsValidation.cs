using EventHub.Health;
using EventHub.Retention;
using EventHub.SignalR;
using EventHub.Sse;
using EventHub.Streaming;
using Microsoft.Extensions.Options;

namespace EventHub.Configuration;

/// <summary>
/// Start-up checks (<c>ValidateOnStart</c>) of the database start-up, streaming, SSE, SignalR, health, retention, ticker,
/// live-state, entity-key and warm-up settings: a bad value stops the hub before it binds, with an error that names the setting
/// (Program prints it as one line and exits with 2). The auth settings have their own
/// (<see cref="Auth.AuthOptionsValidator"/>).
/// </summary>
public static class OptionsValidation
{
    public static IServiceCollection AddEventHubOptionsValidation(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<StreamOptions>, StreamOptionsValidator>();
        services.AddOptions<StreamOptions>().ValidateOnStart();
        services.AddOptions<SseOptions>()
            .Validate(o => o.KeepAliveInterval > TimeSpan.Zero, Positive("Sse:KeepAliveInterval", "a time span such as 00:00:15"))
            .Validate(o => o.RetryHint >= TimeSpan.Zero, "Sse:RetryHint must not be negative.")
            .ValidateOnStart();
        services.AddOptions<EventsHubOptions>()
            .Validate(o => o.StreamChannelCapacity > 0, Positive("SignalR:StreamChannelCapacity", "a number of events"))
            .Validate(o => o.StreamChannelPayloadBytes > 0, Positive("SignalR:StreamChannelPayloadBytes", "a number of bytes"))
            .Validate(o => o.StatePageEntities > 0, Positive("SignalR:StatePageEntities", "a number of entities"))
            .ValidateOnStart();
        services.AddOptions<Storage.DatabaseStartupOptions>()
            .Validate(o => o.StartupWait >= TimeSpan.Zero, "Database:StartupWait must not be negative (0: one attempt).")
            .ValidateOnStart();
        services.AddOptions<HealthOptions>()
            .Validate(o => o.MaxTailLag > TimeSpan.Zero, Positive("Health:MaxTailLag", "a time span such as 00:00:10"))
            .ValidateOnStart();
        services.AddOptions<RetentionOptions>()
            .Validate(o => o.Interval > TimeSpan.Zero, Positive("Retention:Interval", "a time span such as 00:01:00"))
            .Validate(o => o.BatchSize > 0, Positive("Retention:BatchSize", "a number of rows"))
            .Validate(o => o.MaxAge is null || o.MaxAge > TimeSpan.Zero, "Retention:MaxAge must be positive when set (or left unset: keep every age).")
            .Validate(o => o.MaxEvents is null || o.MaxEvents > 0, "Retention:MaxEvents must be at least 1 when set (or left unset: keep every event).")
            .ValidateOnStart();
        services.AddOptions<Log.TickerOptions>()
            .Validate(o => o.Interval > TimeSpan.Zero, Positive("Ticker:Interval", "a time span such as 00:00:00.002"))
            .Validate(o => o.IdleInterval >= o.Interval, "Ticker:IdleInterval must be at least Ticker:Interval.")
            .Validate(o => o.BusyInterval >= o.Interval, "Ticker:BusyInterval must be at least Ticker:Interval.")
            .Validate(o => o.BusyRate >= 0, "Ticker:BusyRate must not be negative (events per second; 0 turns it off).")
            .Validate(o => o.QuietShare is >= 0 and <= 1, "Ticker:QuietShare must be between 0 (look every Ticker:Interval until Ticker:IdleAfter) and 1 (a share of the time since the last tick).")
            .Validate(o => o.Lease > TimeSpan.Zero, Positive("Ticker:Lease", "a time span such as 00:00:01"))
            .Validate(o => o.FollowerInterval > TimeSpan.Zero, Positive("Ticker:FollowerInterval", "a time span such as 00:00:00.250"))
            .Validate(o => o.HandOffRows >= 0, "Ticker:HandOffRows must not be negative.")
            .Validate(o => o.HandOffPayloadBytes > 0, Positive("Ticker:HandOffPayloadBytes", "a number of bytes"))
            .Validate(o => o.WaitInDatabase >= TimeSpan.Zero && o.WaitInDatabase <= o.Lease / 4,
                "Ticker:WaitInDatabase must be between 0 (a round trip per look) and a quarter of Ticker:Lease (a round renews the lease when it ends).")
            .Validate(o => o.RoundTimeout >= TimeSpan.FromSeconds(1) && o.RoundTimeout.Ticks % TimeSpan.TicksPerSecond == 0,
                "Ticker:RoundTimeout must be a whole number of seconds, at least 1 (such as 00:00:05).")
            .ValidateOnStart();
        services.AddOptions<Operations.LiveWarmUpOptions>()
            .Validate(o => o.Duration >= TimeSpan.Zero, "LiveWarmUp:Duration must not be negative (00:00:00 turns the warm-up off).")
            .Validate(o => o.Streams is >= 1 and <= Operations.LiveWarmUpOptions.MaxStreams,
                $"LiveWarmUp:Streams must be between 1 and {Operations.LiveWarmUpOptions.MaxStreams}.")
            .Validate(o => o.Timeout > TimeSpan.Zero, "LiveWarmUp:Timeout must be positive (it bounds how long the hub waits for the warm-up before it reports ready).")
            .ValidateOnStart();
        services.AddOptions<Operations.CatchUpWarmUpOptions>()
            .Validate(o => o.Events >= 0, "CatchUpWarmUp:Events must not be negative (0 turns the warm-up off).")
            .Validate(o => o.PayloadBytes > 0, "CatchUpWarmUp:PayloadBytes must be positive (a number of bytes).")
            .Validate(o => o.Timeout > TimeSpan.Zero, "CatchUpWarmUp:Timeout must be positive (it bounds how long the hub waits for the warm-up before it reports ready).")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<State.EntityKeyOptions>, EntityKeyOptionsValidator>();
        services.AddOptions<State.EntityKeyOptions>().ValidateOnStart();
        services.AddOptions<State.LiveStateOptions>()
            .Validate(o => o.BaseInterval >= TimeSpan.Zero, "State:BaseInterval must not be negative (0 leaves the base to retention).")
            .Validate(o => o.RebuildCheckInterval > TimeSpan.Zero, Positive("State:RebuildCheckInterval", "a time span such as 00:00:01"))
            .ValidateOnStart();
        return services;
    }

    private static string Positive(string setting, string what) => $"{setting} must be positive ({what}).";

    /// <summary>
    /// Each <c>State:EntityKeys:&lt;type&gt;</c> needs a kind and its fields, each named once: a
    /// field given twice keys the entity by the same value twice, and a client that keys by the
    /// listed fields (<c>entityKeys</c>) would follow that. Checked here rather than when
    /// <see cref="State.EntityKeySync"/> writes the keys, which runs once the database answers and
    /// failed as the host's "Hosting failed to start" with a stack trace.
    /// </summary>
    private sealed class EntityKeyOptionsValidator : IValidateOptions<State.EntityKeyOptions>
    {
        public ValidateOptionsResult Validate(string? name, State.EntityKeyOptions o)
        {
            var failures = new List<string>();
            foreach (var (type, key) in o.EntityKeys.OrderBy(x => x.Key, StringComparer.Ordinal))
            {
                var setting = $"{State.EntityKeyOptions.Section}:{nameof(o.EntityKeys)}:{type}";
                if (string.IsNullOrWhiteSpace(key.Kind))
                    failures.Add($"{setting}:Kind must name the kind of entity events of type {type} describe (such as {setting}:Kind=tracker).");
                if (key.Fields.Count == 0)
                    failures.Add($"{setting}:Fields must name at least one payload field that keys the entity (such as {setting}:Fields:0=id).");
                var named = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < key.Fields.Count; i++)
                {
                    if (string.IsNullOrWhiteSpace(key.Fields[i]))
                        failures.Add($"{setting}:Fields:{i} must name a payload field.");
                    else if (!named.Add(key.Fields[i]))
                        failures.Add($"{setting}:Fields:{i} names {key.Fields[i]} again: each field keys the entity once.");
                }
            }
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }

    private sealed class StreamOptionsValidator : IValidateOptions<StreamOptions>
    {
        public ValidateOptionsResult Validate(string? name, StreamOptions o)
        {
            var failures = new List<string>();
            void Check(bool ok, string setting, string what)
            {
                if (!ok) failures.Add(Positive($"{StreamOptions.Section}:{setting}", what));
            }
            Check(o.PollInterval > TimeSpan.Zero, nameof(o.PollInterval), "a time span such as 00:00:01");
            Check(o.HeldBackPollDelay > TimeSpan.Zero, nameof(o.HeldBackPollDelay), "a time span such as 00:00:00.002");
            Check(o.TailBatchSize > 0, nameof(o.TailBatchSize), "a number of events");
            Check(o.TailBatchPayloadBytes > 0, nameof(o.TailBatchPayloadBytes), "a number of bytes");
            Check(o.CatchUpBatchSize > 0, nameof(o.CatchUpBatchSize), "a number of events");
            Check(o.CatchUpPagePayloadBytes > 0, nameof(o.CatchUpPagePayloadBytes), "a number of bytes");
            Check(o.SubscriberBufferCapacity > 0, nameof(o.SubscriberBufferCapacity), "a number of events");
            Check(o.SubscriberBufferPayloadBytes > 0, nameof(o.SubscriberBufferPayloadBytes), "a number of bytes");
            Check(o.MaxProjects > 0, nameof(o.MaxProjects), "a number of projects");
            Check(o.MaxTypes > 0, nameof(o.MaxTypes), "a number of types");
            Check(o.MaxProjectIdLength > 0, nameof(o.MaxProjectIdLength), "a number of characters");
            Check(o.MaxTypeLength > 0, nameof(o.MaxTypeLength), "a number of characters");
            Check(o.RecentEventsWindowPayloadBytes > 0, nameof(o.RecentEventsWindowPayloadBytes), "a number of bytes");
            if (o.RecentEventsWindowSize < 0)
                failures.Add($"{StreamOptions.Section}:{nameof(o.RecentEventsWindowSize)} must not be negative (0 turns the window off).");
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
