using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace LsmRaft.Host.Ui;

/// <summary>
/// The admin web UI: static files embedded in the lsmraft assembly (Ui/wwwroot, no build step, no Node toolchain)
/// served at <c>/ui/</c>; <c>GET /</c> and <c>GET /ui</c> redirect there. The pages read the API of the node that
/// served them (see docs/operations.md).
/// </summary>
internal static class UiEndpoints
{
    private const string ResourcePrefix = "LsmRaft.Host.Ui.wwwroot";

    public static void Map(WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(UiEndpoints).Assembly, ResourcePrefix);
        app.MapGet("/", () => Results.Redirect("/ui/")).ExcludeFromDescription();
        // Routing ignores a trailing slash, so "/ui" and "/ui/" reach the same endpoint; relative links need the slash.
        app.MapGet("/ui/{file?}", (HttpContext context, string? file) => file is null && !context.Request.Path.Value!.EndsWith('/')
            ? Task.FromResult(Results.Redirect("/ui/"))
            : Serve(context, files, file ?? "index.html")).ExcludeFromDescription();
    }

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    private static async Task<IResult> Serve(HttpContext context, IFileProvider files, string name)
    {
        var file = files.GetFileInfo(name);
        if (!file.Exists || !ContentTypes.TryGetContentType(name, out var contentType))
        {
            await Api.ProblemMapping.WriteAsync(context, Api.ProblemMapping.ForStatus(404, $"The admin UI has no file '{name}'."));
            return Results.Empty;
        }
        // The files change only with the build; revalidating on every load keeps an upgraded node's UI consistent.
        context.Response.Headers.CacheControl = "no-cache";
        await using var stream = file.CreateReadStream();
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, context.RequestAborted);
        return Results.Bytes(buffer.ToArray(), contentType + (contentType.StartsWith("text/", StringComparison.Ordinal) || contentType.EndsWith("javascript", StringComparison.Ordinal) ? "; charset=utf-8" : ""));
    }
}
