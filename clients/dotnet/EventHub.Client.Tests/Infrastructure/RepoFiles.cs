namespace EventHub.Client.Tests.Infrastructure;

/// <summary>Files of the repository the tests read (the shared contract and case files).</summary>
internal static class RepoFiles
{
    /// <summary>The repository's root: the directory above the test binaries that holds EventHub.sln.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "EventHub.sln"))) return dir.FullName;
            throw new InvalidOperationException($"No EventHub.sln above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>The path of <paramref name="relative"/> (with forward slashes) under the root.</summary>
    public static string PathOf(string relative) => Path.Combine([Root, .. relative.Split('/')]);
}
