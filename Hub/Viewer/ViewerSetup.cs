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
        // The static files answer GET and HEAD only; another method on one of them fell through to
        // routing's 404 ("Nothing is served at /viewer.js"): it is a 405 with its Allow header (the
        // status code pages write the JSON body).
        app.Use((context, next) =>
        {
            if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)) return next(context);
            var path = context.Request.Path.Value ?? "";
            if (path != "/" && !(path.Length > 1 && files.GetFileInfo(path) is { Exists: true, IsDirectory: false })) return next(context);
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        });
        return app;
    }
}
