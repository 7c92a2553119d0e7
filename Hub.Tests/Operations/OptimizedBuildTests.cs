using System.Diagnostics;
using System.Reflection;
using EventHub.Contracts;

namespace EventHub.Tests.Operations;

/// <summary>
/// The hub's own assemblies are optimized in every configuration. README's <c>dotnet run
/// --project Hub</c> builds Debug, and a Debug assembly tells the JIT not to optimize its code;
/// the test suite itself builds Debug, so this fails if a project loses its <c>Optimize</c>.
/// </summary>
public sealed class OptimizedBuildTests
{
    public static TheoryData<string> HubAssemblies() => new()
    {
        typeof(EventHubApp).Assembly.GetName().Name!,
        typeof(ChangeEvent).Assembly.GetName().Name!,
        typeof(EventHub.Contracts.MessagePack.EventHubMessagePack).Assembly.GetName().Name!,
    };

    [Theory]
    [MemberData(nameof(HubAssemblies))]
    public void The_JIT_may_optimize_the_assembly(string name)
    {
        var assembly = Assembly.Load(name);
        var debuggable = assembly.GetCustomAttribute<DebuggableAttribute>();
        Assert.False(debuggable?.IsJITOptimizerDisabled ?? false,
            $"{name} is built with JIT optimizations disabled (a Debug build without <Optimize>true</Optimize>)");
    }
}
