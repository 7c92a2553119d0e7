using EventHub.Log;
using EventHub.Streaming;
using Microsoft.Extensions.Options;

namespace EventHub.Tests.Streaming;

public sealed class OffsetAndValidationTests
{
    [Fact]
    public void An_offset_round_trips_and_zero_means_the_beginning()
    {
        var p = new LogPosition(123456789012, 42);
        Assert.True(Offset.TryParse(Offset.Format("0123abcdef", p), out var parsed));
        Assert.Equal(("0123abcdef", p), (parsed.Epoch, parsed.Position));
        Assert.True(Offset.TryParse("0", out var zero));
        Assert.Null(zero.Epoch);
        Assert.Equal(LogPosition.Start, zero.Position);
    }

    [Fact]
    public void The_start_of_a_log_formatted_with_its_epoch_parses_as_the_start_of_that_log()
    {
        // What a reset on an empty log hands out as the offset to continue from.
        Assert.True(Offset.TryParse(Offset.Format("0123abcdef", LogPosition.Start), out var start));
        Assert.Equal(("0123abcdef", LogPosition.Start), (start.Epoch, start.Position));
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("abc.1")]
    [InlineData("abc.1.2.3")]
    [InlineData("a-c.1.2")]
    [InlineData("abc.0.2")]
    [InlineData("abc.1.0")]
    [InlineData("abc.+1.2")]
    [InlineData("abc.1.99999999999999999999999")]
    [InlineData(".1.2")]
    [InlineData("abc.1.2")]          // an epoch is ten lowercase hex digits: no log has these
    [InlineData("otherlog01.1.2")]
    [InlineData("0123ABCDEF.1.2")]
    [InlineData("0123abcdef0.1.2")]
    public void Malformed_offsets_are_rejected(string text) => Assert.False(Offset.TryParse(text, out _));

    [Fact]
    public void Positions_order_by_transaction_then_seq()
    {
        Assert.True(new LogPosition(5, 100) < new LogPosition(6, 1));
        Assert.True(new LogPosition(5, 1) < new LogPosition(5, 2));
    }

    [Fact]
    public void The_validator_builds_a_filter_with_exact_types_and_prefixes()
    {
        var v = new StreamRequestValidator(Options.Create(new StreamOptions()));
        var r = v.Validate(new StreamRequest(["ao"], ["pr_*", "session_created"], null));
        Assert.True(r.Filter.MatchesType("pr_updated"));
        Assert.True(r.Filter.MatchesType("session_created"));
        Assert.False(r.Filter.MatchesType("session_updated"));
        Assert.True(r.Filter.MatchesProject("ao"));
        Assert.False(r.Filter.MatchesProject("web"));
    }
}
