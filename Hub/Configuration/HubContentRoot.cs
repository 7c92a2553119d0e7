namespace EventHub.Configuration;

/// <summary>
/// Where the hub reads its <c>appsettings.json</c> from. ASP.NET Core's content root is the working
/// directory unless told otherwise, so the built hub started from any other directory
/// (<c>dotnet Hub/bin/Release/net10.0/EventHub.Hub.dll</c> from the repository root, a service unit
/// without a working directory) read none of the settings beside it: it listened on
/// <c>localhost:5000</c> instead of <c>127.0.0.1:5080</c>, with every framework log at Information.
/// The hub's own directory is then the content root. A working directory that has an
/// <c>appsettings.json</c> keeps the host's choice, and so does a content root given on the command
/// line (<c>--contentRoot</c>) or in the environment (<c>ASPNETCORE_CONTENTROOT</c>,
/// <c>DOTNET_CONTENTROOT</c>).
/// </summary>
public static class HubContentRoot
{
    public const string SettingsFile = "appsettings.json";

    /// <summary>The content root to give the host, or null for the host's own choice.</summary>
    /// <param name="args">The command line, as the host reads it.</param>
    public static string? Choose(string[] args) => Choose(
        new ConfigurationBuilder() // the host's own sources of host settings
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddEnvironmentVariables("DOTNET_")
            .AddCommandLine(args)
            .Build(),
        Directory.GetCurrentDirectory(), AppContext.BaseDirectory);

    /// <param name="hostSettings">Host settings (<c>contentRoot</c>) from the command line and the environment.</param>
    /// <param name="workingDirectory">The process's working directory: the host's default content root.</param>
    /// <param name="hubDirectory">Where the hub's assembly and its <c>appsettings.json</c> are.</param>
    public static string? Choose(IConfiguration hostSettings, string workingDirectory, string hubDirectory) =>
        !string.IsNullOrEmpty(hostSettings[HostDefaults.ContentRootKey])
        || File.Exists(Path.Combine(workingDirectory, SettingsFile))
        || !File.Exists(Path.Combine(hubDirectory, SettingsFile))
            ? null
            : hubDirectory;
}
