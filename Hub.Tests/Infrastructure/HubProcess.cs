using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// The built hub (<c>Hub/bin/{configuration}/net10.0/EventHub.Hub.dll</c>) as a separate OS
/// process on a fixed loopback port, against a test database, so a test can kill it with SIGKILL
/// and start it again, or run it under runtime settings of its own. The solution build builds the
/// hub before the test projects (they reference it).
/// </summary>
public sealed class HubProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HubProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>What the process printed on its standard output alone, line by line.</summary>
    public IReadOnlyList<string> StdoutLines
    {
        get { lock (_log) return [.. _stdout]; }
    }

    private readonly List<string> _stdout = [];

    /// <summary>What the process printed, for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>The built hub of the same configuration as this test assembly.</summary>
    public static string HubDll
    {
        get
        {
            var configuration = typeof(HubProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            return Path.Combine(RepoRoot, "Hub", "bin", configuration, "net10.0", "EventHub.Hub.dll");
        }
    }

    private static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "EventHub.sln"))) return dir.FullName;
            throw new InvalidOperationException($"No EventHub.sln above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>
    /// Runs the hub this test assembly references (<c>dotnet EventHub.Hub.dll</c> with
    /// <paramref name="args"/>) until it exits by itself, for a start that must fail: its exit
    /// code and what it printed. Killed if it is still running after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        var hubDll = typeof(EventHubApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(hubDll)!,
        };
        start.ArgumentList.Add(hubDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A free loopback port (released again: the hub binds it; see <see cref="EventHub.Storage.LoopbackPorts.Free"/>).</summary>
    public static int FreePort() => EventHub.Storage.LoopbackPorts.Free();

    /// <summary>Starts the hub and waits until it serves requests ("Application started").</summary>
    /// <param name="connectionString">The database (every node of a multi-node test gets the same one).</param>
    /// <param name="port">The loopback port.</param>
    /// <param name="settings">Further configuration as environment variables (<c>Stream__PollInterval</c>), applied last.</param>
    /// <param name="workingDirectory">The process's working directory (the repository's <c>Hub</c> folder, as <c>dotnet run --project Hub</c> runs it).</param>
    public static async Task<HubProcess> StartAsync(string connectionString, int port, IReadOnlyDictionary<string, string>? settings = null,
        string? workingDirectory = null)
    {
        var dll = HubDll;
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build the solution first.");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll },
            WorkingDirectory = workingDirectory ?? Path.Combine(RepoRoot, "Hub"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ConnectionStrings__EventHub"] = connectionString;
        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["Stream__PollInterval"] = "00:00:00.500";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // The suite's hubs start without the live warm-up's 2 s of CPU (LiveWarmUpTests cover it); settings may turn it on.
        info.Environment["LiveWarmUp__Duration"] = "00:00:00";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var hub = new HubProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => hub.OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => hub.OnLine(e.Data);
        process.Exited += (_, _) => hub._started.TrySetException(
            new InvalidOperationException($"The hub exited during start-up:\n{hub.Log}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await hub._started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            await hub.KillAsync();
            throw new TimeoutException($"The hub did not start within 60 s:\n{hub.Log}");
        }
        return hub;
    }

    private void OnLine(string? line, bool stdout = false)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.AppendLine(line);
            if (stdout) _stdout.Add(line);
        }
        if (line.Contains("Application started", StringComparison.Ordinal)) _started.TrySetResult();
    }

    /// <summary>SIGTERM, as an operator stops it: a graceful shutdown; waits until the process is gone.</summary>
    public Task StopAsync() => ProcessEnd.TerminateAsync(_process);

    /// <summary>SIGKILL: no graceful shutdown, no final frame; waits until the process is gone.</summary>
    public Task KillAsync() => ProcessEnd.KillAsync(_process);

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await KillAsync();
        _process.Dispose();
    }

    private bool _disposed;
}
