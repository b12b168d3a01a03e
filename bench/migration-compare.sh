#!/usr/bin/env bash
# Before/after a migration, in one run (issues 10 and 11): builds BASE_REF (the pre-migration commit) beside the
# working tree and measures both, alternating, so a drift of the machine's speed hits both alike.
#  1. Cluster load: three 3-node clusters side by side on loopback (etcd, LsmRaft at BASE_REF, LsmRaft as checked
#     out), the same load generator as bench/cluster-vs-etcd.sh (writes then linearizable reads, 16 and 64
#     connections), rows alternating etcd / base / current ROUNDS times; medians.
#  2. Idle cost: CPU per node of an idle 3-node cluster with IDLE_SHARDS_SMALL and IDLE_SHARDS_LARGE shards per
#     initial node (replication factor 3, so replicas per node = 3 x that), base and current alternately, measured
#     from /proc/<pid>/stat over IDLE_SECONDS after IDLE_SETTLE seconds of quiet (idle groups quiesce).
# Rewrites the section between migration-compare:begin/end in docs/benchmarks.md.
# Settings (environment): BASE_REF (default: the commit before the Akka migration), SECONDS_PER_LOAD (20), WARMUP (5),
# ROUNDS (3), IDLE_SHARDS_SMALL (4), IDLE_SHARDS_LARGE (1000), IDLE_SETTLE (20), IDLE_SECONDS (30), IDLE_ROUNDS (1),
# SKIP_LOAD, SKIP_IDLE, WORK_DIR (./data/migration-compare), DOC, SECTION (migration-compare: the docs section it
# rewrites), TITLE (the section's heading).
# Ports on 127.0.0.1: 23791-23796 (etcd), 28081-28086 (current), 28181-28186 (base).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_REF=${BASE_REF:-9e5b94a}
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-20}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-3}
IDLE_SHARDS_SMALL=${IDLE_SHARDS_SMALL:-4}
IDLE_SHARDS_LARGE=${IDLE_SHARDS_LARGE:-1000}
IDLE_SETTLE=${IDLE_SETTLE:-20}
IDLE_SECONDS=${IDLE_SECONDS:-30}
IDLE_ROUNDS=${IDLE_ROUNDS:-1}
SECTION=${SECTION:-migration-compare}
TITLE=${TITLE:-Before and after the Akka.NET migration}
WORK_DIR=${WORK_DIR:-./data/migration-compare}
DOC=${DOC:-docs/benchmarks.md}
[ -n "${SKIP_LOAD:-}" ] || command -v etcd >/dev/null || { echo "etcd not found: apt-get install etcd-server" >&2; exit 2; }

rm -rf "$WORK_DIR"; mkdir -p "$WORK_DIR"
source bench/lib/base-build.sh
base_build "$BASE_REF" src/LsmRaft.Host src hocon
dotnet build -c Release src/LsmRaft.Host >/dev/null
dotnet build -c Release bench/LsmRaft.Bench >/dev/null
BENCH="dotnet bench/LsmRaft.Bench/bin/Release/net10.0/LsmRaft.Bench.dll"
declare -A DLL=([current]="src/LsmRaft.Host/bin/Release/net10.0/lsmraft.dll" [base]="$base_src/src/LsmRaft.Host/bin/Release/net10.0/lsmraft.dll")
declare -A PORT_BASE=([current]=28080 [base]=28180)

source bench/lib/clusters.sh

start_lsmraft() { # which shards -> sets node_pids
  lsmraft_start "${DLL[$1]}" "${PORT_BASE[$1]}" "$1-$2" LSMRAFT_SHARDS="$2"
  node_pids=("${lsmraft_pids[@]}")
}
endpoints() { lsmraft_endpoints "${PORT_BASE[$1]}"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

load_start=$(cut -d' ' -f1 /proc/loadavg)
load_out=""
if [ -z "${SKIP_LOAD:-}" ]; then
  etcd_start
  start_lsmraft base 4
  start_lsmraft current 4
  for op in put get; do
    for c in 16 64; do
      for round in $(seq 1 "$ROUNDS"); do
        load_out+="etcd $($BENCH cluster --target=etcd --endpoints="$etcd_endpoints" --op=$op --connections=$c --seconds=$SECONDS_PER_LOAD --warmup=$WARMUP)"$'\n'
        for which in base current; do
          load_out+="$which $($BENCH cluster --target=lsmraft --endpoints="$(endpoints $which)" --op=$op --connections=$c --seconds=$SECONDS_PER_LOAD --warmup=$WARMUP)"$'\n'
        done
      done
    done
  done
  bench_stop_all
fi

idle_out=""
if [ -z "${SKIP_IDLE:-}" ]; then
  for shards in "$IDLE_SHARDS_SMALL" "$IDLE_SHARDS_LARGE"; do
    for which in $(for r in $(seq 1 "$IDLE_ROUNDS"); do echo base current; done); do
      start_lsmraft "$which" "$shards"
      sleep "$IDLE_SETTLE" # not synchronisation: the measured window starts once idle groups have had time to quiesce
      before=(); for p in "${node_pids[@]}"; do before+=("$(cpu_ticks "$p")"); done
      sleep "$IDLE_SECONDS"
      line="$which shards=$shards"
      for k in 0 1 2; do
        after=$(cpu_ticks "${node_pids[$k]}")
        line+=" $(python3 -c "print(f'{($after - ${before[$k]}) * 100 / ($(getconf CLK_TCK) * $IDLE_SECONDS):.1f}')")"
      done
      idle_out+="$line"$'\n'
      bench_stop_all
    done
  done
fi
load_end=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$DOC" "$load_out" "$idle_out" "$base_commit" "$current_commit" "$SECONDS_PER_LOAD" "$WARMUP" "$ROUNDS" "$load_start" "$load_end" "$IDLE_SETTLE" "$IDLE_SECONDS" "$SECTION" "$TITLE" <<'PY'
import sys
sys.path.insert(0, "bench/lib")
from report import cluster_medians, measured, write_section
doc, load_out, idle_out, base, cur, secs, warm, rounds, l0, l1, settle, idle_secs, section, title = sys.argv[1:15]
med = cluster_medians(load_out, lambda label, target, protocol, op, c: (label, op, c))
lines = [f"## {title}", "",
  f"{measured('bench/migration-compare.sh', l0, l1)} Base: `{base}` (before the migration), current: `{cur}`.", ""]
if med:
    lines += [f"Three 3-node clusters side by side on 127.0.0.1 (etcd, LsmRaft base, LsmRaft current), fsync on; rows alternate etcd / base / current {rounds} times (medians), {secs} s per run after {warm} s of unmeasured load; 16-byte keys, 100-byte values, linearizable reads.", "",
      "| load | etcd ops/s | base ops/s | current ops/s | current/base | current/etcd | p99 µs etcd / base / current | errors |",
      "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for op in ("put", "get"):
        for c in (16, 64):
            e, b, n = med.get(("etcd", op, c)), med.get(("base", op, c)), med.get(("current", op, c))
            if not (e and b and n): continue
            lines.append(f"| {'writes' if op=='put' else 'reads'}, {c} connections | {e[0]:,} | {b[0]:,} | {n[0]:,} | {n[0]/max(b[0],1):.2f} | {n[0]/max(e[0],1):.2f} | {e[2]:,} / {b[2]:,} / {n[2]:,} | {e[3]} / {b[3]} / {n[3]} |")
    lines.append("")
if idle_out.strip():
    lines += [f"Idle cost: CPU per node process (% of one core) of an idle 3-node cluster, measured over {idle_secs} s after {settle} s of quiet; replicas per node = 3 x shards per initial node (plus the meta group).", "",
      "| shards per initial node (replicas per node) | base: node 1 / 2 / 3 | current: node 1 / 2 / 3 |", "| --- | --- | --- |"]
    idle = {}
    for line in idle_out.splitlines():
        parts = line.split()
        idle.setdefault((parts[0], parts[1].split("=")[1]), []).append(" / ".join(p + " %" for p in parts[2:]))
    for shards in dict.fromkeys(k[1] for k in idle):
        lines.append(f"| {shards} ({int(shards) * 3}) | {'; '.join(idle.get(('base', shards), ['-']))} | {'; '.join(idle.get(('current', shards), ['-']))} |")
    lines.append("")
lines += ["Raw output:", "", "```", load_out.rstrip(), idle_out.rstrip(), "```"]
write_section(doc, section, lines)
PY
echo "wrote $DOC"
