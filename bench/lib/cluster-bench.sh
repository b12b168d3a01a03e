# Sourced by the cluster benchmarks (cluster-vs-etcd, grpc-vs-rest, data-plane-gate) after `cd` to the repository root,
# with NAME set to the script's name: the settings every one of them takes from the environment — SECONDS_PER_LOAD
# (default DEFAULT_SECONDS, else 30), WARMUP (5), ROUNDS (3), WORK_DIR (./data/NAME), DOC (docs/benchmarks.md) —
# the Release builds of the load generator and the node, their paths in BENCH and LSMRAFT, a fresh WORK_DIR, and
# bench/lib/clusters.sh (cluster start-up, stopped on exit).
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-${DEFAULT_SECONDS:-30}}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-3}
WORK_DIR=${WORK_DIR:-./data/$NAME}
DOC=${DOC:-docs/benchmarks.md}
dotnet build -c Release bench/LsmRaft.Bench >/dev/null
dotnet build -c Release src/LsmRaft.Host >/dev/null
BENCH="dotnet bench/LsmRaft.Bench/bin/Release/net10.0/LsmRaft.Bench.dll"
LSMRAFT="src/LsmRaft.Host/bin/Release/net10.0/lsmraft.dll"
rm -rf "$WORK_DIR"; mkdir -p "$WORK_DIR"
source bench/lib/clusters.sh
