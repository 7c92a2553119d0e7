using System.Diagnostics;
using System.Reflection;
using EventHub.Cli;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>
/// The <c>eventhub</c> tool in a process of its own, as its users run it: the build beside the
/// tests (<c>eventhub.dll</c> with its own runtimeconfig, so the tool's runtime settings apply),
/// its stdout and stderr read line by line.
/// </summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;

    private CliProcess(Process process) => _process = process;

    /// <summary>
    /// The tool's own build output (<c>eventhub.dll</c> with its runtimeconfig and dependencies),
    /// not the copy beside the tests, whose folder lacks what the tool brings itself.
    /// </summary>
    public static string Dll
    {
        get
        {
            var configuration = typeof(EventHubCli).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var dll = RepoFiles.PathOf($"clients/dotnet/EventHub.Cli/bin/{configuration}/net10.0/eventhub.dll");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build the solution first.");
        }
    }

    public LineWriter Out { get; } = new();
    public LineWriter Err { get; } = new();

    public static CliProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts the tool with <paramref name="environment"/> added to this process's variables.</summary>
    public static CliProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Dll },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        var process = new Process { StartInfo = info };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) cli.Out.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) cli.Err.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Waits for the tool to end by itself (and for its output); returns the exit code.</summary>
    public async Task<int> ExitAsync()
    {
        await _process.WaitForExitAsync().WithTimeout();
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as Ctrl+C or a service manager stops it; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        await ProcessEnd.TerminateAsync(_process);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await ProcessEnd.KillAsync(_process);
        _process.Dispose();
    }
}
