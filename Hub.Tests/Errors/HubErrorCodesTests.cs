using System.Reflection;
using EventHub.Auth;
using EventHub.Contracts;
using EventHub.Errors;
using EventHub.Streaming;
using EventHub.Streaming.Policy;

namespace EventHub.Tests.Errors;

/// <summary>
/// Every code the hub's own constant classes name is a code of the one error contract
/// (<see cref="ErrorContract"/>), so no code reaches a client without the contract saying how the
/// client retries it; and every reset reason is marked as a reset there.
/// </summary>
public sealed class HubErrorCodesTests
{
    [Fact]
    public void Every_code_constant_of_the_hub_is_in_the_error_contract()
    {
        var classes = new[] { typeof(StreamErrorCodes), typeof(ResetReasons), typeof(AccessErrorCodes), typeof(CrossSiteGuard), typeof(StreamRefusal), typeof(UnhandledErrorMiddleware) };
        var codes = classes
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string) && f.Name != nameof(UnhandledErrorMiddleware.Message))
            .Select(f => (Name: $"{f.DeclaringType!.Name}.{f.Name}", Code: (string)f.GetRawConstantValue()!))
            .ToList();
        Assert.True(codes.Count >= 20, $"only {codes.Count} constants found");
        Assert.Empty(codes.Where(c => ErrorContract.Find(c.Code) is null).Select(c => c.Name));
    }

    [Fact]
    public void Every_reset_reason_is_a_reset_of_the_contract() =>
        Assert.All(typeof(ResetReasons).GetFields().Select(f => (string)f.GetRawConstantValue()!),
            reason => Assert.True(ErrorContract.Find(reason)?.IsReset, reason));
}
