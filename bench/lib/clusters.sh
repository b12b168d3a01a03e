# Sourced by the bench scripts (bench/*.sh), after they `cd` to the repository root and set WORK_DIR: starts local
# 3-node clusters on 127.0.0.1 — LsmRaft (`lsmraft start`, configured by the origin's environment variables) and etcd
# (Debian's etcd-server) — and stops every process it started when the script exits (or on bench_stop_all).

# Every process started here.
bench_pids=()
bench_stop_all() { for p in "${bench_pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; bench_pids=(); }
trap bench_stop_all EXIT

# lsmraft_start DLL PORT_BASE NAME [VAR=value ...]: a 3-node LsmRaft cluster running DLL (lsmraft.dll); node i on peer
# port PORT_BASE-1+2i and HTTP port PORT_BASE+2i, data in $WORK_DIR/NAME-i, output in $WORK_DIR/NAME-i.log, the
# VAR=value pairs added to every node's environment. Returns once every node answers /readyz; exits the script when
# one is not ready within READY_TIMEOUT seconds (default 600). Sets lsmraft_pids to the nodes' process ids.
lsmraft_start() {
  local dll=$1 b=$2 name=$3 peers="" i deadline=$((SECONDS + ${READY_TIMEOUT:-600}))
  shift 3
  for i in 1 2 3; do peers+="${peers:+,}$i:127.0.0.1:$((b - 1 + 2 * i))"; done
  lsmraft_pids=()
  for i in 1 2 3; do
    # env execs dotnet: $! is the node's own process id.
    env "$@" PEER_ID=$i PORT=$((b - 1 + 2 * i)) HTTP_PORT=$((b + 2 * i)) GROUP_ID=bench PEERS="$peers" DATA_DIR="$WORK_DIR/$name-$i" \
      LSMRAFT_CLUSTER_SECRET=bench-secret-0123456789abcdef LSMRAFT_BIND_ADDRESS=127.0.0.1 \
      dotnet "$dll" start > "$WORK_DIR/$name-$i.log" 2>&1 &
    bench_pids+=($!); lsmraft_pids+=($!)
  done
  for i in 1 2 3; do
    until curl -sf --max-time 65 "http://127.0.0.1:$((b + 2 * i))/readyz?wait=60" >/dev/null; do
      [ $SECONDS -lt $deadline ] || { echo "$name node $i not ready; see $WORK_DIR/$name-$i.log" >&2; exit 1; }
      sleep 1
    done
  done
}

# lsmraft_endpoints PORT_BASE: the HTTP endpoints of the cluster lsmraft_start started on PORT_BASE, comma-separated.
lsmraft_endpoints() { local b=$1; echo "http://127.0.0.1:$((b + 2)),http://127.0.0.1:$((b + 4)),http://127.0.0.1:$((b + 6))"; }

# The client endpoints of the etcd cluster etcd_start starts.
etcd_endpoints="http://127.0.0.1:23791,http://127.0.0.1:23793,http://127.0.0.1:23795"

# etcd_start: a 3-member etcd cluster, member i on client port 23789+2i and peer port 23790+2i, data in
# $WORK_DIR/etcd$i, output in $WORK_DIR/etcd$i.log. Returns once the first member reports healthy; exits the script
# when it does not within READY_TIMEOUT seconds (default 600).
etcd_start() {
  local cluster="e1=http://127.0.0.1:23792,e2=http://127.0.0.1:23794,e3=http://127.0.0.1:23796" i c p deadline=$((SECONDS + ${READY_TIMEOUT:-600}))
  for i in 1 2 3; do
    c=$((23789 + 2 * i)); p=$((23790 + 2 * i))
    etcd --name "e$i" --data-dir "$WORK_DIR/etcd$i" \
      --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
      --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token bench \
      > "$WORK_DIR/etcd$i.log" 2>&1 &
    bench_pids+=($!)
  done
  until curl -sf --max-time 5 http://127.0.0.1:23791/health >/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "etcd not healthy; see $WORK_DIR/etcd1.log" >&2; exit 1; }
    sleep 0.2
  done
}
