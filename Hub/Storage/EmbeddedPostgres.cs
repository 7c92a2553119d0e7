using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// A private PostgreSQL cluster run from the local server binaries, for the zero-set-up mode
/// of the hub and for the tests. It listens on 127.0.0.1 only, with password authentication.
/// </summary>
/// <remarks>
/// The cluster is started with <c>pg_ctl</c>, so it is a separate process tree: if the hub dies
/// without stopping it, the next start finds it running (<c>pg_ctl status</c>) and reuses it
/// rather than failing on the stale lock file.
/// </remarks>
public sealed partial class EmbeddedPostgres : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _binDir;
    private readonly string? _runAs;
    private readonly int _requestedPort;
    private readonly ILogger _logger;
    private bool _started;

    public EmbeddedPostgres(EmbeddedPostgresOptions options, ILogger logger)
    {
        _logger = logger;
        _root = Path.GetFullPath(options.Directory ?? DefaultDirectory());
        _binDir = PostgresBinaries.FindBinDirectory(options.BinDirectory)
            ?? throw new InvalidOperationException(
                "No PostgreSQL server binaries (initdb, pg_ctl) were found on PATH or under /usr/lib/postgresql/*/bin. " +
                "Install them (Debian: apt-get install -y postgresql) or set ConnectionStrings:EventHub to an existing database.");
        _runAs = Environment.IsPrivilegedProcess ? options.RunAsUser ?? "postgres" : null;
        _requestedPort = options.Port ?? 0;
        Database = options.Database ?? "eventhub";
    }

    public string DataDirectory => Path.Combine(_root, "pgdata");
    public string Database { get; }
    public int Port { get; private set; }
    public string AdminConnectionString { get; private set; } = "";

    /// <summary>Connection string to <see cref="Database"/>; valid after <see cref="StartAsync"/>.</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = Database }.ConnectionString;

    public static string DefaultDirectory()
    {
        if (Environment.UserName == "root") return "/var/lib/eventhub";
        var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(dataHome))
            dataHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(dataHome, "eventhub");
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(_root);
        var passwordFile = Path.Combine(_root, "password");
        var runDir = Path.Combine(_root, "run");
        Directory.CreateDirectory(runDir);
        if (_runAs is not null)
            await RunAsync("chown", ["-R", _runAs, _root], asServerUser: false, cancellationToken);

        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            var pwTemp = Path.Combine(_root, "initdb-password");
            await File.WriteAllTextAsync(pwTemp, password, cancellationToken);
            if (_runAs is not null) await RunAsync("chown", [_runAs, pwTemp], asServerUser: false, cancellationToken);
            LogCreating(_logger, DataDirectory);
            try
            {
                await RunAsync(Path.Combine(_binDir, "initdb"),
                    ["-D", DataDirectory, "-U", "postgres", "-E", "UTF8", "--no-locale",
                     "--auth-local=trust", "--auth-host=scram-sha-256", $"--pwfile={pwTemp}"],
                    asServerUser: true, cancellationToken);
            }
            finally { File.Delete(pwTemp); }
            await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var pw = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();

        var runningPort = await RunningPortAsync(cancellationToken);
        if (runningPort is int existing)
        {
            Port = existing;
            LogReusing(_logger, Port);
        }
        else
        {
            Port = _requestedPort > 0 ? _requestedPort : LoopbackPorts.Free();
            var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={runDir} -c max_connections=300";
            await RunAsync(Path.Combine(_binDir, "pg_ctl"),
                ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(_root, "postgres.log"), "-o", options],
                asServerUser: true, cancellationToken);
            LogStarted(_logger, Port, DataDirectory);
        }
        _started = true;

        AdminConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = Port, Username = "postgres", Password = pw, Database = "postgres",
            Pooling = false,
        }.ConnectionString;
        await CreateDatabaseAsync(Database, cancellationToken);
    }

    /// <summary>Creates a database in the cluster unless it exists.</summary>
    public async Task CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var check = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @n", connection);
        check.Parameters.AddWithValue("n", name);
        if (await check.ExecuteScalarAsync(cancellationToken) is not null) return;
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"")}\"", connection);
        try { await create.ExecuteNonQueryAsync(cancellationToken); }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another process created it between the check and the create.
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (!_started) return;
        _started = false;
        NpgsqlConnection.ClearAllPools();
        await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"],
            asServerUser: true, cancellationToken);
        LogStopped(_logger, DataDirectory);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task<int?> RunningPortAsync(CancellationToken cancellationToken)
    {
        var status = await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["status", "-D", DataDirectory],
            asServerUser: true, cancellationToken, throwOnError: false);
        if (status != 0) return null;
        // postmaster.pid: line 4 is the port (see PostgreSQL's pidfile.h).
        var lines = await File.ReadAllLinesAsync(Path.Combine(DataDirectory, "postmaster.pid"), cancellationToken);
        return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
    }


    private async Task<int> RunAsync(string program, IReadOnlyList<string> args, bool asServerUser,
        CancellationToken cancellationToken, bool throwOnError = true)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = _root,
        };
        if (asServerUser && _runAs is not null)
        {
            start.FileName = "runuser";
            foreach (var a in (string[])["-u", _runAs, "--", program]) start.ArgumentList.Add(a);
        }
        else start.FileName = program;
        foreach (var a in args) start.ArgumentList.Add(a);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        // pg_ctl start leaves the postmaster holding our pipes unless its output goes to -l;
        // read both to the end so a chatty child never blocks on a full pipe.
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = (await stdout) + (await stderr);
        if (process.ExitCode != 0 && throwOnError)
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', args)} failed with exit code {process.ExitCode}: {output.Trim()}");
        return process.ExitCode;
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Creating a private PostgreSQL cluster in {DataDirectory}")]
    private static partial void LogCreating(ILogger logger, string dataDirectory);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Reusing the private PostgreSQL already running on port {Port}")]
    private static partial void LogReusing(ILogger logger, int port);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Started a private PostgreSQL on 127.0.0.1:{Port} ({DataDirectory})")]
    private static partial void LogStarted(ILogger logger, int port, string dataDirectory);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Stopped the private PostgreSQL ({DataDirectory})")]
    private static partial void LogStopped(ILogger logger, string dataDirectory);
}
