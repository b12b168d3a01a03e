# LsmRaft node image: `docker build -t axothy/lsmraft:latest .` (deploy/README.md; deploy/docker-compose.yml runs the
# origin's three nodes). Entrypoint `lsmraft start`: every setting comes from the environment (the origin's PEER_ID,
# PORT, HTTP_PORT, GROUP_ID, PEERS, FLUSH_THRESHOLD_BYTES, BLOOM_FPP, BLOOM_HASH_FUNCS; docs/configuration.md), data
# lives on the /data volume, SIGTERM (docker stop) stops the node gracefully and it exits 0.

# --- build: the SDK image compiles and publishes the node (framework-dependent) ---
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet publish src/LsmRaft.Host/LsmRaft.Host.csproj -c Release -o /app --nologo

# --- runtime: the ASP.NET runtime image, no SDK, running as the image's non-root user `app` ---
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# /data belongs to the non-root user before the volume is declared, so a fresh named volume inherits the ownership.
RUN mkdir -p /data && chown app:app /data
ENV PATH="/app:${PATH}" \
    DATA_DIR=/data \
    PORT=8080 \
    HTTP_PORT=8081
VOLUME ["/data"]
USER app
# The default peer (PORT) and HTTP (HTTP_PORT) ports; the origin's commands set others per node and publish them with -p.
EXPOSE 8080/tcp 8081/tcp
# The runtime image has no curl: `lsmraft ready` asks GET /readyz on 127.0.0.1:$HTTP_PORT and exits 0 (ready) or 1.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["lsmraft", "ready", "--timeout", "4"]
# docker stop sends SIGTERM and waits 10 s by default; the node's graceful stop takes up to LSMRAFT_SHUTDOWN_TIMEOUT
# (30 s), so give it `docker stop -t 40` (the compose file sets stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["lsmraft", "start"]
