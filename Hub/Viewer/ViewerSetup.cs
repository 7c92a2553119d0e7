using Microsoft.Extensions.FileProviders;

namespace EventHub.Viewer;

/// <summary>
/// Serves the live event viewer (a static page built from <c>clients/typescript/viewer</c> into
/// <c>Hub/wwwroot</c>) at <c>/</c>.
/// </summary>
/// <remarks>
/// The files are copied next to the hub's assembly at build time and served from there, so the
/// viewer works whatever the working directory or environment (<c>dotnet run --project Hub</c>
/// from the repository root, or <c>dotnet EventHub.Hub.dll</c> from anywhere).
/// </remarks>
public static class ViewerSetup
{
    /// <summary>Adds the default-document and static-file middleware for the viewer, if it was built.</summary>
    public static WebApplication UseEventHubViewer(this WebApplication app)
    {
        var root = new[] { Path.Combine(AppContext.BaseDirectory, "wwwroot"), Path.Combine(app.Environment.ContentRootPath, "wwwroot") }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "index.html")));
        if (root is null) return app;
        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        return app;
    }
}
