#!/usr/bin/env bash
# Process pauses while a 3-node cluster starts many replicas per node, server GC against workstation GC (issue 11:
# nodes downed by the split-brain resolver during such a start on a loaded machine). Alternates the GC modes ROUNDS
# times; each run: launch the three nodes (DOTNET_gcServer=1 or 0), time until all answer /readyz, stay up HOLD
# seconds, read each node's pause detector from /metrics (largest pause, GC pause total, gen2 collections, wakes
# later than 1 s), count its pause warnings and the Akka unreachable / downed lines in its log, stop.
# BUSY=N runs N busy loops during the runs (to reproduce a loaded machine). Prints one line per node and run.
# Settings (environment): SHARDS (1000 per initial node, replication factor 3: 3,000 replicas per node), ROUNDS (1),
# MODES ("server workstation"), HOLD (20), BUSY (0), READY_TIMEOUT (900), WORK_DIR (./data/pause-start).
# Ports on 127.0.0.1: 28381-28386.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS=${SHARDS:-1000}
ROUNDS=${ROUNDS:-1}
MODES=${MODES:-server workstation}
HOLD=${HOLD:-20}
BUSY=${BUSY:-0}
export READY_TIMEOUT=${READY_TIMEOUT:-900}
WORK_DIR=${WORK_DIR:-./data/pause-start}
PORT_BASE=28380

rm -rf "$WORK_DIR"; mkdir -p "$WORK_DIR"
dotnet build -c Release src/LsmRaft.Host >/dev/null
DLL=src/LsmRaft.Host/bin/Release/net10.0/lsmraft.dll
source bench/lib/clusters.sh

busy_pids=()
stop_busy() { for p in "${busy_pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; busy_pids=(); }
trap 'stop_busy; bench_stop_all' EXIT
for _ in $(seq 1 "$BUSY"); do (while :; do :; done) & busy_pids+=($!); done

metric() { awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.2f", s }' "$2"; }
for round in $(seq 1 "$ROUNDS"); do
  for mode in $MODES; do
    name="$mode-r$round"; gc=1; [ "$mode" = server ] || gc=0
    load0=$(cut -d' ' -f1 /proc/loadavg)
    t0=$SECONDS; lsmraft_start "$DLL" "$PORT_BASE" "$name" LSMRAFT_SHARDS="$SHARDS" DOTNET_gcServer=$gc; start=$((SECONDS - t0))
    sleep "$HOLD"
    load1=$(cut -d' ' -f1 /proc/loadavg)
    for i in 1 2 3; do
      m="$WORK_DIR/$name-$i.metrics"
      curl -sf --max-time 30 "http://127.0.0.1:$((PORT_BASE + 2 * i))/metrics" > "$m" || : > "$m"
      log="$WORK_DIR/$name-$i.log"
      slow=$(awk '$1 ~ /^lsmraft_process_pause_seconds_bucket/ && /le="1"/ { le1 += $2 } $1 ~ /^lsmraft_process_pause_seconds_count/ { n += $2 } END { print n - le1 }' "$m")
      echo "$mode round=$round node=$i start=${start}s load=$load0-$load1 max-pause=$(metric lsmraft_process_pause_max_seconds "$m")s" \
        "gc-pause-total=$(metric lsmraft_process_gc_pause_seconds_total "$m")s" \
        "gen2=$(awk '$1 ~ /^lsmraft_process_gc_collections_total/ && /gen2/ { print $2 }' "$m")" \
        "wakes-over-1s=$slow warnings=$(grep -c 'Process paused' "$log" || true)" \
        "unreachable=$(grep -ci 'unreachable' "$log" || true) downed=$(grep -ci 'downed\|DownReachable\|DownUnreachable\|down-all\|exit code 6' "$log" || true)"
    done
    bench_stop_all
  done
done
