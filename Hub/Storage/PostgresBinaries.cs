namespace EventHub.Storage;

/// <summary>Finds the local PostgreSQL server programs (<c>initdb</c>, <c>pg_ctl</c>).</summary>
public static class PostgresBinaries
{
    /// <summary>
    /// The directory holding <c>initdb</c> and <c>pg_ctl</c>: the PATH first, then the newest
    /// <c>/usr/lib/postgresql/*/bin</c> (Debian keeps the server programs off the PATH).
    /// </summary>
    /// <returns>The directory, or null when none is installed.</returns>
    public static string? FindBinDirectory(string? configured = null)
    {
        if (!string.IsNullOrWhiteSpace(configured))
            return HasServerPrograms(configured) ? configured : null;

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            if (dir.Length > 0 && HasServerPrograms(dir))
                return RealDirectory(dir);

        const string debianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(debianRoot)) return null;
        return Directory.GetDirectories(debianRoot)
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(x => HasServerPrograms(x.Dir))
            .OrderByDescending(x => x.Version)
            .Select(x => x.Dir)
            .FirstOrDefault();
    }

    // A PATH entry may hold symlinks to a few programs only (/usr/local/bin/initdb ->
    // /usr/lib/postgresql/15/bin/initdb); the real directory has the siblings (pg_basebackup, ...).
    private static string RealDirectory(string dir)
    {
        var target = new FileInfo(Path.Combine(dir, "initdb")).ResolveLinkTarget(returnFinalTarget: true);
        return Path.GetDirectoryName(target?.FullName) is { } real && HasServerPrograms(real) ? real : dir;
    }

    private static bool HasServerPrograms(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));
}
