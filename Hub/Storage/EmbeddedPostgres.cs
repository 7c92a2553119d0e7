using System.Diagnostics;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// A private PostgreSQL cluster run from the local server binaries, for the zero-set-up mode
/// of the hub and for the tests. It listens on 127.0.0.1 only, with password authentication.
/// </summary>
/// <remarks>
/// Only the hub gets in (issue 12; docs/security.md, "The embedded PostgreSQL"): every rule asks
/// for the password (pg_hba.conf is rewritten at each start, for clusters of older versions that
/// trusted the socket), the directory, the socket directory and the socket are the cluster's OS
/// user's alone (0700), and the password file is 0600 from its creation.
/// <para>
/// The cluster is started with <c>pg_ctl</c>, so it is a separate process tree: if the hub dies
/// without stopping it, the next start finds it running (<c>pg_ctl status</c>) and reuses it
/// rather than failing on the stale lock file.
/// </para>
/// </remarks>
public sealed partial class EmbeddedPostgres : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _binDir;
    private readonly string? _runAs;
    private readonly int _requestedPort;
    private readonly ILogger _logger;
    private bool _started;
    // Every hub that uses this cluster holds a shared lock on UsersLockFile while it does; a second
    // hub on the same directory reuses the running cluster. The one that stops last stops the
    // cluster: before, the first to stop took it from under the other (which then failed every
    // read), and a restart put it on a new port the other never learned.
    private FileStream? _userLock;

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

    /// <summary>Directory of the server's Unix socket; only the cluster's OS user (and root) can enter it.</summary>
    public string SocketDirectory => Path.Combine(_root, "run");

    private string LogFile => Path.Combine(_root, "postgres.log");
    private string UsersLockFile => Path.Combine(_root, "users.lock");
    private string StartLockFile => Path.Combine(_root, "start.lock");
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
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("The private PostgreSQL cluster needs a Unix system; set ConnectionStrings:EventHub.");

        var passwordFile = Path.Combine(_root, "password");
        var runDir = SocketDirectory;
        // Threat: another local account reaching the socket, the password or the log (issue 12).
        // The root directory and the socket directory are the cluster owner's alone, so nothing
        // under them can be listed or entered by anyone else, whatever the files' own modes.
        CreatePrivateDirectory(_root);
        // Hubs starting at once on one directory start in turn: one runs initdb and pg_ctl start, the
        // others find the cluster running and reuse it (each on its own, both started it: one failed).
        using var starting = await LockAsync(StartLockFile, FileShare.None, cancellationToken);
        CreatePrivateDirectory(runDir);
        if (_runAs is not null)
            await RunAsync("chown", ["-R", _runAs, _root], asServerUser: false, cancellationToken);
        // Left by an older version: a password file it had written before narrowing its mode,
        // a log, and the superuser password in initdb's file if that version died mid-initdb.
        NarrowToOwner(passwordFile);
        NarrowToOwner(LogFile);
        File.Delete(Path.Combine(_root, "initdb-password"));

        var created = false;
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            // The password file is also initdb's --pwfile: one file, private from its creation,
            // rather than a second copy of the superuser password to create and delete.
            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            await WritePrivateFileAsync(passwordFile, password, cancellationToken);
            LogCreating(_logger, DataDirectory);
            await RunAsync(Path.Combine(_binDir, "initdb"),
                ["-D", DataDirectory, "-U", "postgres", "-E", "UTF8", "--no-locale",
                 "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", $"--pwfile={passwordFile}"],
                asServerUser: true, cancellationToken);
            created = true;
        }
        var pw = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();

        // Written on every start, not only by initdb: clusters of older versions admit anyone
        // who reaches the socket as superuser ("local all all trust").
        var rulesReplaced = await WriteAccessRulesAsync(cancellationToken);
        if (rulesReplaced && !created) LogAccessRulesReplaced(_logger, DataDirectory);

        _userLock ??= await LockAsync(UsersLockFile, FileShare.ReadWrite, cancellationToken);
        var runningPort = await RunningPortAsync(cancellationToken);
        if (runningPort is int existing)
        {
            Port = existing;
            // Started by an earlier hub, perhaps an older version: its socket is 0777 and its
            // rules are those it loaded. The directories above are private now; the rules need
            // a reload, which the postmaster applies on its own time.
            NarrowToOwner(Path.Combine(runDir, $".s.PGSQL.{Port}"), executable: true);
            await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["reload", "-D", DataDirectory], asServerUser: true, cancellationToken);
            if (rulesReplaced) await WaitUntilTheSocketAsksForThePasswordAsync(cancellationToken);
            LogReusing(_logger, Port);
        }
        else
        {
            Port = _requestedPort > 0 ? _requestedPort : LoopbackPorts.Free();
            var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={runDir} " +
                          "-c unix_socket_permissions=0700 -c max_connections=300";
            await RunAsync(Path.Combine(_binDir, "pg_ctl"),
                ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", LogFile, "-o", options],
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

    public Task StopAsync(CancellationToken cancellationToken = default) => StopAsync("fast", cancellationToken);

    /// <summary>
    /// Stops the cluster as a crash would (<c>pg_ctl stop -m immediate</c>: no shutdown checkpoint),
    /// so the next start runs crash recovery, which empties unlogged tables. For tests of what a
    /// crash leaves.
    /// </summary>
    public Task StopImmediatelyAsync(CancellationToken cancellationToken = default) => StopAsync("immediate", cancellationToken);

    private async Task StopAsync(string mode, CancellationToken cancellationToken)
    {
        if (!_started) return;
        _started = false;
        NpgsqlConnection.ClearAllPools();
        _userLock?.Dispose();
        _userLock = null;
        // The last user stops the cluster; held exclusively meanwhile, so a hub starting now waits
        // for the stop and then starts the cluster afresh (LockAsync).
        if (TryLock(UsersLockFile, FileShare.None) is not { } last)
        {
            LogLeftRunning(_logger, DataDirectory);
            return;
        }
        using (last)
        {
            await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["stop", "-D", DataDirectory, "-m", mode, "-w", "-t", "60"],
                asServerUser: true, cancellationToken);
        }
        LogStopped(_logger, DataDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _userLock?.Dispose(); // a start that failed after taking it
        _userLock = null;
    }

    /// <summary>
    /// An flock on <paramref name="path"/>, shared (<see cref="FileShare.ReadWrite"/>) or exclusive
    /// (<see cref="FileShare.None"/>): .NET takes it when it opens the file, without waiting, and the
    /// kernel releases it when the process dies. Retried while another hub holds it the other way
    /// (starting or stopping the cluster).
    /// </summary>
    /// <remarks>With <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> set .NET takes no lock: hubs on one directory then stop the cluster under each other.</remarks>
    private static async Task<FileStream> LockAsync(string path, FileShare share, CancellationToken cancellationToken)
    {
        for (var waited = TimeSpan.Zero; ; waited += TimeSpan.FromMilliseconds(100))
        {
            if (TryLock(path, share) is { } locked) return locked;
            if (waited >= TimeSpan.FromSeconds(90))
                throw new IOException($"{path} stayed locked by another hub for 90 s.");
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>The lock at once, or null while another hub holds it the other way.</summary>
    private static FileStream? TryLock(string path, FileShare share)
    {
        try { return new FileStream(path, FileMode.OpenOrCreate, share == FileShare.None ? FileAccess.ReadWrite : FileAccess.Read, share); }
        catch (IOException) { return null; }
    }

    private async Task<int?> RunningPortAsync(CancellationToken cancellationToken)
    {
        var status = await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["status", "-D", DataDirectory],
            asServerUser: true, cancellationToken, throwOnError: false);
        if (status != 0) return null;
        // postmaster.pid: line 4 is the port (see PostgreSQL's pidfile.h).
        var lines = await File.ReadAllLinesAsync(Path.Combine(DataDirectory, "postmaster.pid"), cancellationToken);
        return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
    }

    /// <summary>
    /// The only rules of the cluster: the password (SCRAM), from this machine, for the socket and
    /// for loopback TCP (replication included: a standby is cloned over 127.0.0.1). No
    /// <c>trust</c>, no <c>peer</c>: the hub always has the password, and a rule that admits by
    /// OS account would admit whoever runs as the cluster's OS user without it.
    /// </summary>
    internal const string AccessRules =
        """
        # Written by EventHub at every start of this cluster; changes here are overwritten.
        # Password (SCRAM) only, from this machine only: see docs/security.md.
        # TYPE  DATABASE        USER            ADDRESS                 METHOD
        local   all             all                                     scram-sha-256
        host    all             all             127.0.0.1/32            scram-sha-256
        host    all             all             ::1/128                 scram-sha-256
        local   replication     all                                     scram-sha-256
        host    replication     all             127.0.0.1/32            scram-sha-256
        host    replication     all             ::1/128                 scram-sha-256

        """;

    /// <summary>Writes <see cref="AccessRules"/> to pg_hba.conf unless it holds them already.</summary>
    /// <returns>Whether the file changed.</returns>
    [UnsupportedOSPlatform("windows")]
    private async Task<bool> WriteAccessRulesAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(DataDirectory, "pg_hba.conf");
        if (File.Exists(path) && await File.ReadAllTextAsync(path, cancellationToken) == AccessRules) return false;
        // A new file renamed over the old: the server never reads a half-written set of rules.
        var temp = path + ".eventhub-new";
        await WritePrivateFileAsync(temp, AccessRules, cancellationToken);
        File.Move(temp, path, overwrite: true);
        return true;
    }

    /// <summary>
    /// After a reload of a running cluster, waits until a connection through the socket with a
    /// wrong password is refused: until the postmaster has applied the new rules, the old ones
    /// (trust) admit anyone who reaches the socket.
    /// </summary>
    private async Task WaitUntilTheSocketAsksForThePasswordAsync(CancellationToken cancellationToken)
    {
        var probe = new NpgsqlConnectionStringBuilder
        {
            // A wrong password, not none: a PGPASSWORD or .pgpass of the hub's account must not decide.
            Host = SocketDirectory, Port = Port, Username = "postgres", Database = "postgres",
            Password = "eventhub-probe-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)), Pooling = false, Timeout = 5,
        }.ConnectionString;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                try
                {
                    await using var connection = new NpgsqlConnection(probe);
                    await connection.OpenAsync(timeout.Token);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
                {
                    return;
                }
                catch (NpgsqlException e) when (e is not PostgresException)
                {
                    throw new InvalidOperationException(
                        $"Could not check that the running PostgreSQL of {DataDirectory} now asks for the password on its socket " +
                        $"({e.Message}). Stop it (pg_ctl stop -D {DataDirectory}) and start the hub again.", e);
                }
                await Task.Delay(50, timeout.Token); // the reload announces itself to nobody
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException(
                $"The running PostgreSQL of {DataDirectory} still admits connections without the password after a reload. " +
                $"Stop it (pg_ctl stop -D {DataDirectory}) and start the hub again.");
        }
    }

    /// <summary>Creates a directory with mode 0700, or narrows an existing one to it.</summary>
    [UnsupportedOSPlatform("windows")]
    private static void CreatePrivateDirectory(string path)
    {
        // Parents keep the usual mode: the cluster's OS user must be able to pass through them.
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Directory.CreateDirectory(path, OwnerOnly);
        File.SetUnixFileMode(path, OwnerOnly);
    }

    [UnsupportedOSPlatform("windows")]
    private static void NarrowToOwner(string path, bool executable = false)
    {
        // Not through a symbolic link: the directory belongs to the cluster's OS user, and a hub
        // running as root must not chmod whatever file that user points it at.
        if (Path.Exists(path) && new FileInfo(path).LinkTarget is null)
            File.SetUnixFileMode(path, executable ? OwnerOnly : OwnerReadWrite);
    }

    /// <summary>
    /// Creates <paramref name="path"/> with mode 0600 from the first byte, owned by the cluster's
    /// OS user. Written first and narrowed after, the file would be readable by anyone in between.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    private async Task WritePrivateFileAsync(string path, string content, CancellationToken cancellationToken)
    {
        // CreateNew, so the mode below applies: an existing file would keep its own, maybe wider,
        // mode. Nobody else can put a file or link here between the two calls: the directory is 0700.
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerReadWrite };
        await using (var stream = new FileStream(path, options))
        await using (var writer = new StreamWriter(stream))
            await writer.WriteAsync(content.AsMemory(), cancellationToken);
        // -h: should the cluster's OS user (owner of the directory) swap the file for a link
        // meanwhile, root changes the owner of the link, not of the file it points to.
        if (_runAs is not null) await RunAsync("chown", ["-h", _runAs, path], asServerUser: false, cancellationToken);
    }

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnly = OwnerReadWrite | UnixFileMode.UserExecute;

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

    [LoggerMessage(EventId = 1106, Level = LogLevel.Information, Message = "Left the private PostgreSQL running ({DataDirectory}): another hub still uses it")]
    private static partial void LogLeftRunning(ILogger logger, string dataDirectory);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning,
        Message = "Replaced the access rules (pg_hba.conf) of {DataDirectory}, from an older version or edited: only password connections from this machine are admitted now")]
    private static partial void LogAccessRulesReplaced(ILogger logger, string dataDirectory);
}
