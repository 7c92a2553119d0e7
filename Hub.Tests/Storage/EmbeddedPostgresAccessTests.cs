using System.Diagnostics;
using System.Runtime.Versioning;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventHub.Tests.Storage;

/// <summary>
/// Issue 12: the private cluster admits the hub and no one else. The threat is another local
/// account (here <c>nobody</c>) that reaches the server as the <c>postgres</c> superuser and, with
/// <c>COPY ... TO PROGRAM</c>, runs commands as the cluster's OS user. Real clusters from the
/// local binaries; the <c>nobody</c> checks need root (CI runs as root) and are skipped otherwise.
/// </summary>
[UnsupportedOSPlatform("windows")] // file modes, runuser: the embedded cluster's threat model is a Unix one
public sealed class EmbeddedPostgresAccessTests(EmbeddedPostgresAccessTests.Cluster cluster)
    : IClassFixture<EmbeddedPostgresAccessTests.Cluster>
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnly = OwnerReadWrite | UnixFileMode.UserExecute;

    [RootFact]
    public async Task Another_OS_user_cannot_list_or_enter_the_socket_directory()
    {
        var ls = await RunAsNobodyAsync("ls", "-a", cluster.SocketDirectory);
        Assert.True(ls.ExitCode != 0, $"nobody listed the socket directory: {ls.Output}");
        Assert.Contains("Permission denied", ls.Output);

        var cd = await RunAsNobodyAsync("sh", "-c", "cd \"$1\"", "sh", cluster.SocketDirectory);
        Assert.True(cd.ExitCode != 0, $"nobody entered the socket directory: {cd.Output}");
    }

    [RootFact]
    public async Task Another_OS_user_can_connect_as_postgres_neither_over_tcp_nor_through_the_socket()
    {
        var tcp = await NobodyPsqlAsync("127.0.0.1", cluster.Postgres.Port);
        Assert.True(tcp.ExitCode != 0, $"nobody connected over TCP as postgres: {tcp.Output}");
        Assert.Contains("password", tcp.Output); // refused for want of the password, not for a broken harness

        var socket = await NobodyPsqlAsync(cluster.SocketDirectory, cluster.Postgres.Port);
        Assert.True(socket.ExitCode != 0, $"nobody connected through the socket as postgres: {socket.Output}");
        Assert.Contains("Permission denied", socket.Output);
    }

    [Fact]
    public async Task Pg_hba_conf_has_no_trust_line_and_even_the_socket_asks_for_the_password()
    {
        var rules = HbaRules(cluster.Postgres.DataDirectory);
        Assert.NotEmpty(rules);
        Assert.DoesNotContain(rules, r => r.Contains("trust", StringComparison.OrdinalIgnoreCase));
        Assert.All(rules, r =>
        {
            var fields = r.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("scram-sha-256", fields[^1]);
            if (fields[0] != "local") Assert.Contains(fields[3], (string[])["127.0.0.1/32", "::1/128"]);
        });

        // The owner of the directory (root, or the hub's own user) gets through the directory
        // permissions; what stops it is the password.
        Assert.False(await ConnectsThroughSocketWithAWrongPasswordAsync(cluster.Postgres, cluster.SocketDirectory),
            "a connection through the socket with a wrong password was admitted");
    }

    [Fact]
    public async Task The_password_file_log_socket_and_directories_are_private_to_the_cluster_owner()
    {
        var root = cluster.Root;
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(Path.Combine(root, "password")));
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(Path.Combine(root, "postgres.log")));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(root));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(cluster.SocketDirectory));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(Path.Combine(cluster.SocketDirectory, $".s.PGSQL.{cluster.Postgres.Port}")));
        Assert.False(File.Exists(Path.Combine(root, "initdb-password")), "the initdb password file was left behind");

        var owner = Environment.IsPrivilegedProcess ? "postgres" : Environment.UserName;
        Assert.Equal(owner, (await RunAsync("stat", "-c", "%U", cluster.SocketDirectory)).Output.Trim());
    }

    [Fact]
    public async Task A_stopped_cluster_created_with_trust_is_locked_down_when_the_hub_starts_on_it()
    {
        var directory = NewDirectory("trust-stopped");
        try
        {
            var created = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory, Port = LoopbackPorts.Free() }, NullLogger.Instance);
            await created.StartAsync().WithTimeout(TimeSpan.FromSeconds(120));
            await created.StopAsync().WithTimeout(TimeSpan.FromSeconds(60));
            SimulateOlderVersion(directory, created.DataDirectory, socket: null);

            // The hub upgraded: the same directory, started again.
            await using var upgraded = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory, Port = LoopbackPorts.Free() }, NullLogger.Instance);
            await upgraded.StartAsync().WithTimeout(TimeSpan.FromSeconds(120));
            await AssertLockedDownAsync(directory, upgraded);
        }
        finally { DeleteDirectory(directory); }
    }

    [Fact]
    public async Task A_running_cluster_that_admits_with_trust_is_locked_down_when_the_hub_reuses_it()
    {
        var directory = NewDirectory("trust-running");
        var socketDirectory = Path.Combine(directory, "run");
        try
        {
            // A cluster left running by an older hub that died: trust rules loaded, open socket.
            await using var old = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory, Port = LoopbackPorts.Free() }, NullLogger.Instance);
            await old.StartAsync().WithTimeout(TimeSpan.FromSeconds(120));
            SimulateOlderVersion(directory, old.DataDirectory, socket: Path.Combine(socketDirectory, $".s.PGSQL.{old.Port}"));
            await RunAsServerUserAsync(Path.Combine(BinDirectory, "pg_ctl"), "reload", "-D", old.DataDirectory);
            // The reload is asynchronous (a signal); nothing announces that it has been applied.
            await UntilAsync(() => ConnectsThroughSocketWithAWrongPasswordAsync(old, socketDirectory),
                "the simulated older cluster never admitted a password-less connection");
            if (Environment.IsPrivilegedProcess)
            {
                var before = await NobodyPsqlAsync(socketDirectory, old.Port);
                Assert.True(before.ExitCode == 0, $"the simulation is not the reported hole (nobody could not connect): {before.Output}");
            }

            await using var reusing = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory }, NullLogger.Instance);
            await reusing.StartAsync().WithTimeout(TimeSpan.FromSeconds(120));
            Assert.Equal(old.Port, reusing.Port); // reused, not restarted elsewhere
            await AssertLockedDownAsync(directory, reusing);
        }
        finally { DeleteDirectory(directory); }
    }

    private static async Task AssertLockedDownAsync(string directory, EmbeddedPostgres postgres)
    {
        var socketDirectory = Path.Combine(directory, "run");
        Assert.DoesNotContain(HbaRules(postgres.DataDirectory), r => r.Contains("trust", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(directory));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(socketDirectory));
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(Path.Combine(directory, "password")));
        Assert.False(await ConnectsThroughSocketWithAWrongPasswordAsync(postgres, socketDirectory),
            "a connection through the socket with a wrong password was admitted");
        if (Environment.IsPrivilegedProcess)
        {
            var nobody = await NobodyPsqlAsync(socketDirectory, postgres.Port);
            Assert.True(nobody.ExitCode != 0, $"nobody connected through the socket as postgres: {nobody.Output}");
        }
        // The hub itself still gets in, with the password.
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync().WithTimeout();
    }

    /// <summary>What a cluster made by an older version looks like: trust rules, world-readable directories and password.</summary>
    private static void SimulateOlderVersion(string directory, string dataDirectory, string? socket)
    {
        // Written over the existing file, so it keeps its owner (the server user must read it).
        File.WriteAllText(Path.Combine(dataDirectory, "pg_hba.conf"),
            """
            local   all             all                                     trust
            host    all             all             127.0.0.1/32            scram-sha-256
            host    all             all             ::1/128                 scram-sha-256
            local   replication     all                                     trust
            host    replication     all             127.0.0.1/32            scram-sha-256
            host    replication     all             ::1/128                 scram-sha-256

            """);
        const UnixFileMode open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(directory, open);
        File.SetUnixFileMode(Path.Combine(directory, "run"), open);
        File.SetUnixFileMode(Path.Combine(directory, "password"), OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        if (socket is not null) File.SetUnixFileMode(socket, (UnixFileMode)0b111_111_111); // unix_socket_permissions' default, 0777
    }

    private static List<string> HbaRules(string dataDirectory) =>
        File.ReadAllLines(Path.Combine(dataDirectory, "pg_hba.conf"))
            .Select(l => l.Split('#')[0].Trim())
            .Where(l => l.Length > 0)
            .ToList();

    /// <summary>
    /// Whether the server admits a connection through the socket with a wrong password, which is
    /// what a <c>trust</c> rule does. A wrong password rather than none, so that a PGPASSWORD or
    /// .pgpass of the test account cannot make the answer.
    /// </summary>
    private static async Task<bool> ConnectsThroughSocketWithAWrongPasswordAsync(EmbeddedPostgres postgres, string socketDirectory)
    {
        var probe = new NpgsqlConnectionStringBuilder
        {
            Host = socketDirectory, Port = postgres.Port, Username = "postgres", Password = "not-the-password",
            Database = "postgres", Pooling = false, Timeout = 10,
        }.ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(probe);
            await connection.OpenAsync().WithTimeout();
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
        {
            return false;
        }
    }

    private static Task<(int ExitCode, string Output)> NobodyPsqlAsync(string host, int port) =>
        RunAsNobodyAsync(Path.Combine(BinDirectory, "psql"), "-X", "-w", "-h", host, "-p", port.ToString(),
            "-U", "postgres", "-d", "postgres", "-c", "SELECT 1");

    private static Task<(int ExitCode, string Output)> RunAsNobodyAsync(params string[] command) =>
        RunAsync("runuser", ["-u", "nobody", "--", .. command]);

    private static async Task RunAsServerUserAsync(params string[] command)
    {
        var result = Environment.IsPrivilegedProcess
            ? await RunAsync("runuser", ["-u", "postgres", "--", .. command])
            : await RunAsync(command[0], command[1..]);
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', command)}: {result.Output}");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = "/", // readable by nobody; the test's own directory may not be
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PGCONNECT_TIMEOUT"] = "10";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(30));
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string because)
    {
        using var cts = new CancellationTokenSource(TaskTimeouts.Default);
        while (!await condition())
        {
            if (cts.IsCancellationRequested) throw new TimeoutException(because);
            await Task.Delay(20);
        }
    }

    private static string BinDirectory => PostgresBinaries.FindBinDirectory()
        ?? throw new InvalidOperationException("These tests need the local PostgreSQL binaries (apt-get install -y postgresql).");

    private static string NewDirectory(string name) =>
        Path.Combine(Path.GetTempPath(), $"eventhub-{name}-{Guid.NewGuid().ToString("N")[..8]}");

    private static void DeleteDirectory(string directory)
    {
        // A failed test may leave its cluster running: stop it before removing its files.
        if (File.Exists(Path.Combine(directory, "pgdata", "postmaster.pid")))
            RunAsServerUserAsync(Path.Combine(BinDirectory, "pg_ctl"), "stop", "-D", Path.Combine(directory, "pgdata"), "-m", "immediate", "-w")
                .ContinueWith(_ => { }).Wait(TimeSpan.FromSeconds(30));
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }

    /// <summary>One locked-down cluster for the read-only checks.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        public string Root { get; } = NewDirectory("access");
        public string SocketDirectory => Path.Combine(Root, "run");
        public EmbeddedPostgres Postgres { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _ = BinDirectory;
            Postgres = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = Root, Port = LoopbackPorts.Free() }, NullLogger.Instance);
            await Postgres.StartAsync().WithTimeout(TimeSpan.FromSeconds(120));
        }

        public async Task DisposeAsync()
        {
            if (Postgres is not null) await Postgres.StopAsync();
            DeleteDirectory(Root);
        }
    }
}

/// <summary>A fact that needs root, to act as another OS user (<c>runuser -u nobody</c>); skipped otherwise.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
            Skip = "Needs root to run commands as another OS user (runuser -u nobody); CI runs the tests as root.";
    }
}
