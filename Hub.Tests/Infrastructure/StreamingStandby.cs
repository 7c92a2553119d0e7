using System.Diagnostics;
using EventHub.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// A primary and a hot standby that streams from it (<c>pg_basebackup -R</c>), both private
/// clusters from the local binaries on loopback ports.
/// </summary>
public sealed class StreamingStandby : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _binDir;
    private readonly string? _runAs;

    private StreamingStandby(string root, string binDir, EmbeddedPostgres primary, int standbyPort)
    {
        _root = root;
        _binDir = binDir;
        Primary = primary;
        StandbyPort = standbyPort;
        _runAs = Environment.IsPrivilegedProcess ? "postgres" : null;
    }

    public EmbeddedPostgres Primary { get; }
    public int StandbyPort { get; }
    private string StandbyData => Path.Combine(_root, "standby", "pgdata");

    /// <summary>Connection string to the <c>eventhub</c> database on the standby.</summary>
    public string StandbyConnectionString => new NpgsqlConnectionStringBuilder(Primary.ConnectionString) { Port = StandbyPort }.ConnectionString;

    public static async Task<StreamingStandby> StartAsync()
    {
        var binDir = PostgresBinaries.FindBinDirectory()
            ?? throw new InvalidOperationException("This test needs the local PostgreSQL binaries.");
        var root = Path.Combine(Path.GetTempPath(), "eventhub-replica-" + Guid.NewGuid().ToString("N")[..8]);
        var primary = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = Path.Combine(root, "primary"), Port = LoopbackPorts.Free() },
            NullLogger.Instance);
        await primary.StartAsync();
        var standby = new StreamingStandby(root, binDir, primary, LoopbackPorts.Free());
        try
        {
            var standbyDir = Path.Combine(root, "standby");
            Directory.CreateDirectory(Path.Combine(standbyDir, "run"));
            if (standby._runAs is not null) await standby.RunAsync("chown", ["-R", standby._runAs, standbyDir], asServerUser: false);

            var password = new NpgsqlConnectionStringBuilder(primary.ConnectionString).Password!;
            await standby.RunAsync("env", [$"PGPASSWORD={password}", Path.Combine(binDir, "pg_basebackup"),
                "-h", "127.0.0.1", "-p", primary.Port.ToString(), "-U", "postgres", "-D", standby.StandbyData, "-R", "-X", "stream", "--checkpoint=fast"]);
            await standby.StartStandbyAsync();
            return standby;
        }
        catch
        {
            // Leave no cluster behind when the standby cannot be set up.
            await standby.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the standby server (again, after <see cref="StopStandbyAsync"/>).</summary>
    public Task StartStandbyAsync()
    {
        var standbyDir = Path.GetDirectoryName(StandbyData)!;
        return RunAsync(Path.Combine(_binDir, "pg_ctl"), ["start", "-D", StandbyData, "-w", "-t", "60",
            "-l", Path.Combine(standbyDir, "postgres.log"),
            "-o", $"-p {StandbyPort} -c listen_addresses=127.0.0.1 -c unix_socket_directories={Path.Combine(standbyDir, "run")} -c hot_standby=on -c max_connections=300"],
            asServerUser: true);
    }

    /// <summary>Stops the standby server (fast: its sessions are ended).</summary>
    public Task StopStandbyAsync() =>
        RunAsync(Path.Combine(_binDir, "pg_ctl"), ["stop", "-D", StandbyData, "-m", "fast", "-w"], asServerUser: true);

    /// <summary>Runs a statement on the standby as superuser (for example <c>SELECT pg_wal_replay_pause()</c>).</summary>
    public async Task ExecuteOnStandbyAsync(string sql)
    {
        await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(StandbyConnectionString) { Pooling = false }.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Waits until the standby has replayed everything the primary has written so far.</summary>
    public async Task WaitForReplayAsync()
    {
        string lsn;
        await using (var p = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Primary.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await p.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", p);
            lsn = (string)(await cmd.ExecuteScalarAsync())!;
        }
        await using var s = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(StandbyConnectionString) { Pooling = false }.ConnectionString);
        await s.OpenAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_last_wal_replay_lsn() >= @lsn::pg_lsn", s);
            cmd.Parameters.AddWithValue("lsn", lsn);
            if (await cmd.ExecuteScalarAsync(cts.Token) is true) return;
            await Task.Delay(20, cts.Token); // replay progress announces itself to nobody
        }
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["stop", "-D", StandbyData, "-m", "immediate", "-w"], asServerUser: true, throwOnError: false);
        await Primary.StopAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private Task<int> RunAsync(string program, IReadOnlyList<string> args, bool throwOnError = true) =>
        RunAsync(program, args, asServerUser: true, throwOnError);

    private async Task<int> RunAsync(string program, IReadOnlyList<string> args, bool asServerUser, bool throwOnError = true)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        if (asServerUser && _runAs is not null)
        {
            start.FileName = "runuser";
            foreach (var a in (string[])["-u", _runAs, "--", program]) start.ArgumentList.Add(a);
        }
        else start.FileName = program;
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 && throwOnError)
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {await output}{await error}");
        return process.ExitCode;
    }

}
