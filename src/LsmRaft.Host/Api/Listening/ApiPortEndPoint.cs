using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LsmRaft.Host.Api.Listening;

/// <summary>
/// One protocol's share of the API port: Kestrel binds one endpoint per protocol (HTTP/1.1, HTTP/2), and
/// <see cref="ApiPortListenerFactory"/> serves both from the same socket, handing each connection to the endpoint of
/// the protocol its first bytes announce.
/// </summary>
internal sealed class ApiPortEndPoint(IPEndPoint address, HttpProtocols protocol) : EndPoint
{
    public IPEndPoint Address { get; } = address;

    /// <summary><see cref="HttpProtocols.Http1"/> or <see cref="HttpProtocols.Http2"/>.</summary>
    public HttpProtocols Protocol { get; } = protocol;

    public override string ToString() => $"{Address} ({(Protocol == HttpProtocols.Http2 ? "HTTP/2 prior knowledge" : "HTTP/1.1")})";

    public override bool Equals(object? obj) => obj is ApiPortEndPoint other && other.Address.Equals(Address) && other.Protocol == Protocol;

    public override int GetHashCode() => HashCode.Combine(Address, Protocol);
}
