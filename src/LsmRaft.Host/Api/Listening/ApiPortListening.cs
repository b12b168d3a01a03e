using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LsmRaft.Host.Api.Listening;

/// <summary>Listening on the API port: REST (HTTP/1.1 and HTTP/2) and gRPC (HTTP/2) on one cleartext port.</summary>
public static class ApiPortListening
{
    /// <summary>
    /// Serves the API on <paramref name="address"/>: HTTP/1.1 requests and HTTP/2 connections with prior knowledge
    /// (gRPC) on the same port. Needs the listener registered by <c>AddLsmRaftApi</c>.
    /// </summary>
    public static void ListenApi(this KestrelServerOptions kestrel, IPEndPoint address)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(address);
        kestrel.Listen(new ApiPortEndPoint(address, HttpProtocols.Http1), listen => listen.Protocols = HttpProtocols.Http1);
        kestrel.Listen(new ApiPortEndPoint(address, HttpProtocols.Http2), listen => listen.Protocols = HttpProtocols.Http2);
    }

    /// <summary>Registers the listener of <see cref="ListenApi"/>; after Kestrel's socket transport, so it is asked first.</summary>
    internal static IServiceCollection AddApiPortListener(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, ApiPortListenerFactory>());
        return services;
    }
}
