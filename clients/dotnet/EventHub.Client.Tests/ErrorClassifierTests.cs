using EventHub.Client.Internal;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.Client.Tests;

/// <summary>Which hub errors stop the client and which are retried, on the texts SignalR really delivers.</summary>
public sealed class ErrorClassifierTests
{
    [Theory]
    [InlineData("An unexpected error occurred invoking 'StreamEvents' on the server. HubException: invalid_offset: 'x' is not an offset.", "invalid_offset", "'x' is not an offset.")]
    [InlineData("offset_from_another_log: This offset belongs to another log. Start again from \"0\".", "offset_from_another_log", "This offset belongs to another log. Start again from \"0\".")]
    [InlineData("Failed to invoke 'StreamEvents' due to an error on the server. InvalidDataException: Invocation provides 0 argument(s) but target expects 1.", "request_failed", null)]
    public void A_coded_or_unbindable_request_is_not_retried(string message, string code, string? reason)
    {
        Assert.True(ErrorClassifier.TryGetRequestError(new HubException(message), out var actualCode, out var actualReason));
        Assert.Equal(code, actualCode);
        Assert.Equal(reason ?? message, actualReason);
    }

    [Theory]
    [InlineData("An unexpected error occurred invoking 'StreamEvents' on the server. HubException: reset: offset_pruned: Events after this offset were pruned. Continue from offset e1f2.9.9.", "offset_pruned", "e1f2.9.9")]
    [InlineData("An error occurred on the server while streaming results. HubException: reset: offset_from_another_log: This offset belongs to another log. Continue from offset 0.", "offset_from_another_log", "0")]
    [InlineData("reset: offset_pruned: Pruned. Continue from offset abc.1.2", "offset_pruned", "abc.1.2")]
    public void A_reset_is_recognised_with_its_reason_and_the_offset_to_continue_from(string message, string reason, string offset)
    {
        Assert.True(ErrorClassifier.TryGetReset(new HubException(message), out var actualReason, out var text, out var actualOffset));
        Assert.Equal((reason, offset), (actualReason, actualOffset));
        Assert.NotEmpty(text);
        Assert.False(ErrorClassifier.TryGetReset(new HubException("invalid_offset: 'x' is not an offset."), out _, out _, out _));
        Assert.False(ErrorClassifier.TryGetReset(new IOException(message), out _, out _, out _));
    }

    [Theory]
    [InlineData("An error occurred on the server while streaming results. HubException: The server ended this stream. Resume by calling StreamEvents again with 'after' set to the offset of the last event you received.")]
    [InlineData("An unexpected error occurred invoking 'StreamEvents' on the server. HubException: The stream could not be opened on the server. Try again shortly.")]
    [InlineData("Invocation canceled due to the underlying connection being closed.")]
    public void The_hub_ending_a_stream_it_could_serve_is_retried(string message) =>
        Assert.False(ErrorClassifier.TryGetRequestError(new HubException(message), out _, out _));

    [Fact]
    public void Transport_failures_are_retried_unless_the_server_refused_the_url_or_the_credentials()
    {
        Assert.False(ErrorClassifier.TryGetRequestError(new IOException("reset"), out _, out _));
        Assert.False(ErrorClassifier.IsRefusedConnection(new HttpRequestException("refused")));
        Assert.True(ErrorClassifier.IsRefusedConnection(new HttpRequestException("nope", null, System.Net.HttpStatusCode.NotFound)));
        Assert.True(ErrorClassifier.IsRefusedConnection(new HttpRequestException("nope", null, System.Net.HttpStatusCode.Unauthorized)));
        Assert.False(ErrorClassifier.IsRefusedConnection(new HttpRequestException("busy", null, System.Net.HttpStatusCode.ServiceUnavailable)));
    }
}
