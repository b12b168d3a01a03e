using System.Security.Cryptography;
using System.Text;
using LsmRaft.Client.Wire;

namespace LsmRaft.Host.Api;

/// <summary>
/// What every admin endpoint shares (<see cref="AdminEndpoints"/>, <see cref="NodeAdminEndpoints"/>): routes under
/// <c>/v1/admin</c> tagged "admin"; the token rule (when <see cref="ApiOptions.AdminToken"/> is set a request needs
/// <c>Authorization: Bearer &lt;token&gt;</c>, else it is answered 401); the service the handler works on (a node without
/// it answers 501); and the problem answers that every admin route documents.
/// </summary>
internal static class AdminRoute
{
    private const string NoAdmin = "This node does not offer admin operations.";

    /// <summary>The route group <c>/v1/admin{path}</c>, tagged "admin".</summary>
    public static RouteGroupBuilder Group(IEndpointRouteBuilder app, string path = "") => app.MapGroup("/v1/admin" + path).WithTags("admin");

    /// <summary>
    /// Documents the route's answer: <typeparamref name="T"/> with <paramref name="status"/>, and the problems 401 and 501
    /// (every admin route) besides <paramref name="problems"/>.
    /// </summary>
    public static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder route, int status, params int[] problems)
    {
        route.Produces<T>(status);
        foreach (int problem in problems.Concat([401, 501]).Order())
            route.ProducesProblem(problem);
        return route;
    }

    /// <summary>
    /// Runs <paramref name="handle"/> on the request's <typeparamref name="TService"/> when the caller may use admin
    /// endpoints; otherwise writes the 401 problem, or the 501 problem (<paramref name="unavailable"/> its detail) when the
    /// node has no such service.
    /// </summary>
    public static async Task<IResult> HandleAsync<TService>(HttpContext context, ApiOptions options, Func<TService, Task<IResult>> handle, string unavailable = NoAdmin)
        where TService : class
    {
        if (options.AdminToken is { } token && !HasBearer(context.Request, token))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await ProblemMapping.WriteAsync(context, new ApiProblem(401, "unauthorized", "Unauthorized",
                "Admin operations need 'Authorization: Bearer <token>' with the node's admin token (setting AdminToken; CLI --token)."));
            return Results.Empty;
        }
        if (context.RequestServices.GetService<TService>() is not { } service)
        {
            await ProblemMapping.WriteAsync(context, new ApiProblem(501, "not-implemented", "Not implemented", unavailable));
            return Results.Empty;
        }
        return await handle(service);
    }

    /// <summary>202 Accepted with <paramref name="body"/>: an admin command's answer once its change is committed.</summary>
    public static IResult Accepted<T>(T body) => Results.Json(body, WireJson.Lenient, statusCode: StatusCodes.Status202Accepted);

    private static bool HasBearer(HttpRequest request, string token)
    {
        string? header = request.Headers.Authorization;
        const string scheme = "Bearer ";
        if (header is null || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        // Constant-time so the comparison does not leak how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
    }
}
