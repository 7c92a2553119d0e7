using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Contracts;

namespace EventHub.Client.Tests;

/// <summary>
/// <c>Contracts/error-contract.json</c> is <see cref="ErrorContract"/> written out, for the
/// TypeScript client's test and for people; it must not go stale. Run with
/// <c>EVENTHUB_WRITE_CONTRACT=1</c> to rewrite it after changing the contract.
/// </summary>
public sealed class ErrorContractFileTests
{
    internal const string ContractFile = "Contracts/error-contract.json";
    internal const string CasesFile = "clients/error-classification-cases.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file for people: "0", not \u00220\u0022
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    [Fact]
    public void The_committed_error_contract_file_is_the_contract_in_Contracts()
    {
        var expected = Render();
        var path = RepoFiles.PathOf(ContractFile);
        if (Environment.GetEnvironmentVariable("EVENTHUB_WRITE_CONTRACT") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path) && File.ReadAllText(path) == expected,
            $"{ContractFile} differs from EventHub.Contracts.ErrorContract: run " +
            "EVENTHUB_WRITE_CONTRACT=1 dotnet test clients/dotnet/EventHub.Client.Tests --filter ErrorContractFileTests and commit it.");
    }

    [Fact]
    public void Every_code_of_the_contract_has_a_case_in_the_shared_classification_cases()
    {
        var cases = JsonNode.Parse(File.ReadAllText(RepoFiles.PathOf(CasesFile)))!["cases"]!.AsArray();
        var covered = cases.Select(c => c!["signal"]?["code"]?.GetValue<string>()).OfType<string>().ToHashSet();
        var missing = ErrorContract.All.Select(c => c.Code).Where(code => !covered.Contains(code)).ToArray();
        Assert.True(missing.Length == 0, $"No case in {CasesFile} for: {string.Join(", ", missing)}");
    }

    [Theory]
    [InlineData("clients/dotnet/README.md")]
    [InlineData("clients/typescript/README.md")]
    public void Each_client_README_shows_every_code_with_what_to_do(string readme)
    {
        var text = File.ReadAllText(RepoFiles.PathOf(readme));
        var missing = ErrorContract.All.Where(c => !text.Contains($"| `{c.Code}` |", StringComparison.Ordinal) || !text.Contains(c.Action, StringComparison.Ordinal))
            .Select(c => c.Code).ToArray();
        Assert.True(missing.Length == 0, $"{readme}'s error table lacks (or has an old action for): {string.Join(", ", missing)}");
    }

    [Fact]
    public void Codes_are_unique_and_only_reset_reasons_are_marked_as_resets()
    {
        Assert.Equal(ErrorContract.All.Count, ErrorContract.All.Select(c => c.Code).Distinct().Count());
        Assert.Equal([ErrorCodes.OffsetFromAnotherLog, ErrorCodes.OffsetPruned, ErrorCodes.OffsetFormatChanged],
            ErrorContract.All.Where(c => c.IsReset).Select(c => c.Code));
        // Every constant of ErrorCodes has its row: a code cannot be added without saying how it is retried.
        var constants = typeof(ErrorCodes).GetFields().Select(f => (string)f.GetRawConstantValue()!);
        Assert.Equal(constants.Order(), ErrorContract.All.Select(c => c.Code).Order());
    }

    private static string Render() =>
        JsonSerializer.Serialize(new { about = About, codes = ErrorContract.All.Select(c => new { c.Code, c.Kind, c.Retry, c.HttpStatus, c.Action }) }, Options)
            .ReplaceLineEndings("\n") + "\n";

    private const string About =
        "Generated from Contracts/ErrorContract.cs (do not edit; EventHub.Client.Tests fails when it is stale). " +
        "Every code the hub sends, its kind, how a client retries it (never, at_once, with_backoff, with_fresh_token) " +
        "and the SSE endpoint's HTTP status for it (null: it only ends an open stream).";
}
