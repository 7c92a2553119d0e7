using EventHub.Log;
using EventHub.Streaming;
using EventHub.Streaming.Internal;

namespace EventHub.Tests.Streaming;

public sealed class ProjectFanoutTests
{
    private static LogEvent Event(string project, long seq, string type = "session_created") =>
        new(new LogPosition(10, 1, seq), $"e.10.{seq}", seq, project, null, type, "{}", DateTimeOffset.UtcNow);

    [Fact]
    public void An_event_is_offered_only_to_its_projects_subscriptions_and_to_all_project_ones()
    {
        var fanout = new ProjectFanout();
        var ao = new Subscription(new EventFilter(["ao"], null), 10);
        var web = new Subscription(new EventFilter(["web"], null), 10);
        var all = new Subscription(EventFilter.All, 10);
        fanout.Subscribe(ao); fanout.Subscribe(web); fanout.Subscribe(all);

        fanout.Publish(Event("ao", 1));

        Assert.True(ao.TryRead(out var e) && e.Seq == 1);
        Assert.False(web.TryRead(out _));
        Assert.True(all.TryRead(out _));
    }

    [Fact]
    public void Subscribe_returns_the_head_and_only_later_events_are_offered()
    {
        var fanout = new ProjectFanout();
        fanout.Publish(Event("ao", 1));
        var s = new Subscription(new EventFilter(["ao"], null), 10);
        Assert.Equal(new LogPosition(10, 1, 1), fanout.Subscribe(s));
        fanout.Publish(Event("ao", 2));
        Assert.True(s.TryRead(out var e) && e.Seq == 2);
        Assert.False(s.TryRead(out _));
    }

    [Fact]
    public void A_type_filter_is_applied_before_buffering()
    {
        var fanout = new ProjectFanout();
        var s = new Subscription(new EventFilter(null, ["pr_*"]), 1);
        fanout.Subscribe(s);
        fanout.Publish(Event("ao", 1, "session_created"));
        fanout.Publish(Event("ao", 2, "pr_created"));
        Assert.False(s.IsLagged); // the session event took no buffer space
        Assert.True(s.TryRead(out var e) && e.Type == "pr_created");
    }

    [Fact]
    public void A_full_buffer_marks_the_subscription_lagged_instead_of_growing()
    {
        var fanout = new ProjectFanout();
        var s = new Subscription(EventFilter.All, 2);
        fanout.Subscribe(s);
        for (var i = 1; i <= 5; i++) fanout.Publish(Event("ao", i));
        Assert.True(s.IsLagged);
        Assert.True(s.TryRead(out _) && s.TryRead(out _));
        Assert.False(s.TryRead(out _));
        Assert.Equal(new LogPosition(10, 1, 5), fanout.Rearm(s));
        Assert.False(s.IsLagged);
    }

    [Fact]
    public void Unsubscribing_a_multi_project_subscription_removes_it_everywhere()
    {
        var fanout = new ProjectFanout();
        var s = new Subscription(new EventFilter(["ao", "web"], null), 10);
        fanout.Subscribe(s);
        fanout.Unsubscribe(s);
        fanout.Unsubscribe(s); // twice is harmless
        Assert.Equal(0, fanout.SubscriberCount);
        fanout.Publish(Event("ao", 1));
        Assert.False(s.TryRead(out _));
    }
}
