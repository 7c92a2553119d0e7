using EventHub.Log;

namespace EventHub.Tests.Streaming;

/// <summary><see cref="RepeatedStrings"/>: one instance per value, within its bound.</summary>
public sealed class RepeatedStringsTests
{
    private static string Fresh(string s) => new(s.AsSpan()); // a new instance, as a database reader makes

    [Fact]
    public void Equal_strings_read_apart_come_back_as_one_instance()
    {
        var strings = new RepeatedStrings();
        var first = strings.Share(Fresh("pr_updated"));
        var again = strings.Share(Fresh("pr_updated"));
        Assert.Same(first, again);
        Assert.NotSame(first, strings.Share(Fresh("session_created")));
        Assert.Null(strings.ShareOrNull(null));
    }

    [Fact]
    public void Past_its_bound_it_starts_over_and_still_returns_equal_strings()
    {
        var strings = new RepeatedStrings(capacity: 2);
        var a = strings.Share(Fresh("a"));
        strings.Share(Fresh("b"));
        Assert.Same(a, strings.Share(Fresh("a")));
        strings.Share(Fresh("c")); // the third: starts over
        var a2 = strings.Share(Fresh("a"));
        Assert.Equal("a", a2);
        Assert.NotSame(a, a2);
        Assert.Same(a2, strings.Share(Fresh("a")));
    }

    [Fact]
    public async Task Threads_that_share_the_same_values_get_one_instance_each()
    {
        var strings = new RepeatedStrings();
        var seen = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            Enumerable.Range(0, 1000).Select(i => strings.Share(Fresh("type-" + (i % 50)))).ToArray())));
        for (var i = 0; i < 1000; i++)
            Assert.All(seen, s => Assert.Same(seen[0][i], s[i]));
    }
}
