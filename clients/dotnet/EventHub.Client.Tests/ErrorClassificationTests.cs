using System.Text.Json;
using EventHub.Client.Internal;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.Client.Tests;

/// <summary>
/// The client classifies every case of <c>clients/error-classification-cases.json</c> as expected;
/// the TypeScript client runs the same file (<c>test/unit/errorClassification.test.ts</c>).
/// </summary>
public sealed class ErrorClassificationTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Load()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_shared_case_is_classified_as_the_contract_says(string name)
    {
        var c = Load().Single(x => x.GetProperty("name").GetString() == name);
        var expected = c.GetProperty("expect").GetString();

        string actual;
        if (c.TryGetProperty("signal", out var s))
        {
            var signal = new StreamSignal(s.GetProperty("type").GetString()!, s.GetProperty("code").GetString()!,
                s.GetProperty("message").GetString()!, s.TryGetProperty("offset", out var o) ? o.GetString() : null);
            // Through the wire form: the item the hub sends, read back as the client reads it.
            Assert.True(StreamSignal.TryRead(signal.ToItem(DateTimeOffset.UnixEpoch), out var read));
            Assert.Equal(signal, read);
            actual = Name(ErrorClassifier.Classify(read));
        }
        else if (c.TryGetProperty("negotiateStatus", out var status))
        {
            // The client stops on a refused URL or credentials before it looks for a code.
            var refused = new HttpRequestException("negotiation refused", null, (System.Net.HttpStatusCode)status.GetInt32());
            string? code = null;
            actual = ErrorClassifier.IsRefusedConnection(refused) ? "stop" : Name(ErrorClassifier.Classify(refused, out code, out _));
            var expectedCode = c.GetProperty("code");
            if (expectedCode.ValueKind != JsonValueKind.Null) Assert.Equal(expectedCode.GetString(), code);
        }
        else
        {
            actual = Name(ErrorClassifier.Classify(new HubException(c.GetProperty("hubError").GetString()), out var code, out _));
            var expectedCode = c.GetProperty("code");
            Assert.Equal(expectedCode.ValueKind == JsonValueKind.Null ? null : expectedCode.GetString(), code);
        }
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Transport_failures_are_retried_unless_the_server_refused_the_url_or_the_credentials()
    {
        Assert.Equal(ErrorOutcome.RetryWithBackoff, ErrorClassifier.Classify(new IOException("reset"), out var code, out _));
        Assert.Null(code);
        Assert.False(ErrorClassifier.IsRefusedConnection(new HttpRequestException("refused")));
        Assert.True(ErrorClassifier.IsRefusedConnection(new HttpRequestException("nope", null, System.Net.HttpStatusCode.NotFound)));
        Assert.False(ErrorClassifier.IsRefusedConnection(new HttpRequestException("busy", null, System.Net.HttpStatusCode.ServiceUnavailable)));
    }

    /// <summary>The cases file's name for an outcome: RetryWithBackoff is retry_with_backoff.</summary>
    private static string Name(ErrorOutcome outcome) => JsonNamingPolicy.SnakeCaseLower.ConvertName(outcome.ToString());

    private static IEnumerable<JsonElement> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(RepoFiles.PathOf(ErrorContractFileTests.CasesFile)));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}
