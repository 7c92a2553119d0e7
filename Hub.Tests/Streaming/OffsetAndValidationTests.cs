using EventHub.Log;
using EventHub.Streaming;
using Microsoft.Extensions.Options;

namespace EventHub.Tests.Streaming;

public sealed class OffsetAndValidationTests
{
    [Fact]
    public void An_offset_round_trips_and_zero_means_the_beginning()
    {
        var p = new LogPosition(123456789012, 987, 42);
        var text = Offset.Format("0123abcdef", p);
        Assert.Equal("0123abcdef-1kpqzg2c-16", text);
        Assert.True(Offset.TryParse(text, out var parsed));
        Assert.Equal(("0123abcdef", OffsetKind.Event, 123456789012L, 42L), (parsed.Epoch, parsed.Kind, parsed.Tick, parsed.Seq));
        Assert.True(Offset.TryParse("0", out var zero));
        Assert.Null(zero.Epoch);
        Assert.Equal(OffsetKind.Beginning, zero.Kind);
    }

    [Fact]
    public void The_end_of_a_tick_has_seq_zero_and_the_start_of_the_log_is_zero()
    {
        // What a reset and the head hand out: a valid offset on an empty log too.
        Assert.Equal("0123abcdef-1-0", Offset.Format("0123abcdef", LogPosition.EndOf(1)));
        Assert.True(Offset.TryParse("0123abcdef-1-0", out var end));
        Assert.Equal((OffsetKind.TickEnd, 1L), (end.Kind, end.Tick));
        Assert.Equal("0", Offset.Format("0123abcdef", LogPosition.Start));
    }

    [Fact]
    public void The_longest_offset_has_at_most_40_characters()
    {
        var longest = Offset.Format("0123abcdef", new LogPosition(long.MaxValue, ulong.MaxValue - 1, long.MaxValue - 1));
        Assert.Equal(Offset.MaxProducedLength, longest.Length);
        Assert.True(longest.Length <= 40, longest);
        Assert.True(Offset.TryParse(longest, out var parsed));
        Assert.Equal((long.MaxValue, long.MaxValue - 1), (parsed.Tick, parsed.Seq));
    }

    [Fact]
    public void An_offset_of_the_previous_core_parses_as_legacy_and_its_start_as_the_beginning()
    {
        Assert.True(Offset.TryParse("0123abcdef.812.42", out var legacy));
        Assert.Equal(("0123abcdef", OffsetKind.Legacy, 812UL, 42L), (legacy.Epoch, legacy.Kind, legacy.LegacyTransactionId, legacy.Seq));
        Assert.True(Offset.TryParse("0123abcdef.0.0", out var start));
        Assert.Equal(("0123abcdef", OffsetKind.Beginning), (start.Epoch, start.Kind));
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
    [InlineData("0123abcdef-0-1")]   // no tick 0
    [InlineData("0123abcdef-01-1")]  // not canonical: one position, one offset
    [InlineData("0123abcdef-1-01")]
    [InlineData("0123abcdef-A-1")]
    [InlineData("0123abcdef-1")]
    [InlineData("0123abcdef-1-2-3")]
    [InlineData("0123abcdef-1-")]
    [InlineData("0123abcdef-zzzzzzzzzzzzzz-1")] // beyond 64 bits
    [InlineData("0123abcdef-1-2.3")]
    public void Malformed_offsets_are_rejected(string text) => Assert.False(Offset.TryParse(text, out _));

    [Fact]
    public void Positions_order_by_tick_then_transaction_then_seq()
    {
        Assert.True(new LogPosition(1, 500, 100) < new LogPosition(2, 6, 1));
        Assert.True(new LogPosition(2, 5, 100) < new LogPosition(2, 6, 1));
        Assert.True(new LogPosition(2, 5, 1) < new LogPosition(2, 5, 2));
        Assert.True(new LogPosition(2, 5, 1) < LogPosition.EndOf(2));
        Assert.True(LogPosition.EndOf(2) < new LogPosition(3, 1, 1));
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
