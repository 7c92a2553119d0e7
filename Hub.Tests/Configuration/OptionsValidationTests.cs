using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EventHub.Tests.Configuration;

/// <summary>Issue 9, point 4: a bad operational setting stops the start with an error naming it.</summary>
public sealed class OptionsValidationTests
{
    // Validation fails before anything connects to it.
    private const string UnusedDatabase = "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d";

    public static TheoryData<string, string> BadSettings => new()
    {
        { "Stream:PollInterval", "00:00:00" },
        { "Stream:SubscriberBufferCapacity", "0" },
        { "Stream:SubscriberBufferPayloadBytes", "0" },
        { "Stream:TailBatchSize", "-5" },
        { "Stream:RecentEventsWindowSize", "-1" },
        { "Stream:RecentEventsWindowPayloadBytes", "0" },
        { "Stream:CatchUpPagePayloadBytes", "-1" },
        { "Stream:TailBatchPayloadBytes", "0" },
        { "Sse:KeepAliveInterval", "-00:00:01" },
        { "SignalR:StreamChannelCapacity", "0" },
        { "SignalR:StreamChannelPayloadBytes", "0" },
        { "SignalR:StatePageEntities", "0" },
        { "Health:MaxTailLag", "00:00:00" },
        { "Retention:Interval", "00:00:00" },
        { "Retention:MaxEvents", "0" },
        { "Ticker:Interval", "00:00:00" },
        { "Ticker:BusyInterval", "00:00:00.0002" }, // below Ticker:Interval (0.5 ms)
        { "Ticker:BusyRate", "-1" },
        { "Ticker:QuietShare", "-0.1" },
        { "Ticker:QuietShare", "2" },
        { "Ticker:HandOffPayloadBytes", "0" },
        { "Ticker:WaitInDatabase", "-00:00:00.010" },
        { "Ticker:WaitInDatabase", "00:00:00.300" }, // above a quarter of Ticker:Lease (1 s)
        { "CatchUpWarmUp:Events", "-1" },
        { "CatchUpWarmUp:PayloadBytes", "0" },
        { "CatchUpWarmUp:Timeout", "00:00:00" },
        { "LiveWarmUp:Duration", "-00:00:01" },
        { "LiveWarmUp:Streams", "0" },
        { "LiveWarmUp:Streams", "1001" },
        { "LiveWarmUp:Timeout", "00:00:00" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_the_start_and_the_error_names_it(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            HubServer.StartAsync(UnusedDatabase, new Dictionary<string, string?> { [key] = value }).WithTimeout());
        Assert.Contains(key, error.Message);
    }

    public static TheoryData<Dictionary<string, string?>, string> BadEntityKeys => new()
    {
        { new() { ["State:EntityKeys:tracker_item:Kind"] = "tracker" }, "State:EntityKeys:tracker_item:Fields" },
        { new() { ["State:EntityKeys:tracker_item:Fields:0"] = "id" }, "State:EntityKeys:tracker_item:Kind" },
        { new() { ["State:EntityKeys:tracker_item:Kind"] = " ", ["State:EntityKeys:tracker_item:Fields:0"] = "id" }, "State:EntityKeys:tracker_item:Kind" },
        { new() { ["State:EntityKeys:tracker_item:Kind"] = "tracker", ["State:EntityKeys:tracker_item:Fields:0"] = "id", ["State:EntityKeys:tracker_item:Fields:1"] = "id" },
            "State:EntityKeys:tracker_item:Fields:1" },
        { new() { ["State:EntityKeys:tracker_item:Kind"] = "tracker", ["State:EntityKeys:tracker_item:Fields:0"] = "id", ["State:EntityKeys:tracker_item:Fields:1"] = "" },
            "State:EntityKeys:tracker_item:Fields:1" },
    };

    [Theory]
    [MemberData(nameof(BadEntityKeys))]
    public async Task A_bad_entity_key_stops_the_start_before_the_database_and_the_error_names_it(Dictionary<string, string?> settings, string named)
    {
        // No wait for the unused database: a key checked only once the hub had its database would
        // fail here as the database's refusal, not the key's.
        settings["Database:StartupWait"] = "00:00:00";
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => HubServer.StartAsync(UnusedDatabase, settings).WithTimeout());
        Assert.Contains(named, error.Message);
    }
}
