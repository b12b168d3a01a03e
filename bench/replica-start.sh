#!/usr/bin/env bash
# How long a 3-node cluster with many replicas per node takes to start and to restart, before and after a change
# (issue 11: every replica started through the Cluster.Sharding region), in one run: builds BASE_REF beside the working
# tree and measures both, alternating base / current ROUNDS times, so a drift of the machine's speed hits both alike.
# Each round, for each build: a first start on empty data directories (manifests written, replicas created), then a
# graceful stop and a restart on the same data (replicas started from their manifests, the node log replayed). A
# time is from launching the three processes until all three answer /readyz (every replica open with a reachable
# leader, every shard reachable): what an operator waits for.
# Rewrites the section between replica-start:begin/end in docs/benchmarks.md.
# Settings (environment): BASE_REF (default 0e81c05: before the replica region), SHARDS (1000 per initial node,
# replication factor 3: 3,000 replicas per node plus the meta group), ROUNDS (2), WORK_DIR (./data/replica-start), DOC.
# Ports on 127.0.0.1: 28281-28286.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_REF=${BASE_REF:-0e81c05}
SHARDS=${SHARDS:-1000}
ROUNDS=${ROUNDS:-2}
WORK_DIR=${WORK_DIR:-./data/replica-start}
DOC=${DOC:-docs/benchmarks.md}

rm -rf "$WORK_DIR"; mkdir -p "$WORK_DIR"
source bench/lib/base-build.sh
base_build "$BASE_REF" src/LsmRaft.Host src hocon
dotnet build -c Release src/LsmRaft.Host >/dev/null
declare -A DLL=([current]="src/LsmRaft.Host/bin/Release/net10.0/lsmraft.dll" [base]="$base_src/src/LsmRaft.Host/bin/Release/net10.0/lsmraft.dll")
PORT_BASE=28280

source bench/lib/clusters.sh

out=""
load_start=$(cut -d' ' -f1 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
  for which in base current; do
    name="$which-r$round"
    t0=$SECONDS; lsmraft_start "${DLL[$which]}" "$PORT_BASE" "$name" LSMRAFT_SHARDS="$SHARDS"; first=$((SECONDS - t0))
    bench_stop_all
    t0=$SECONDS; lsmraft_start "${DLL[$which]}" "$PORT_BASE" "$name" LSMRAFT_SHARDS="$SHARDS"; restart=$((SECONDS - t0))
    bench_stop_all
    rm -rf "$WORK_DIR/$name"-?
    line="$which round=$round first-start=${first}s restart=${restart}s"
    echo "$line" >&2
    out+="$line"$'\n'
  done
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$DOC" "$out" "$base_commit" "$current_commit" "$SHARDS" "$ROUNDS" "$load_start" "$load_end" <<'PY'
import re, statistics, sys
sys.path.insert(0, "bench/lib")
from report import measured, write_section
doc, out, base, cur, shards, rounds, l0, l1 = sys.argv[1:9]
runs = {}
for line in out.splitlines():
    m = re.match(r"(\w+) round=\d+ first-start=(\d+)s restart=(\d+)s", line)
    if m:
        runs.setdefault(m.group(1), []).append((int(m.group(2)), int(m.group(3))))
def cell(which, i):
    values = [r[i] for r in runs.get(which, [])]
    return f"{statistics.median(values):g} s ({', '.join(str(v) for v in values)})" if values else "-"
lines = ["## Node start with many replicas (replica region)", "",
  f"{measured('bench/replica-start.sh', l0, l1)} Base: `{base}` (replicas started as plain actors), current: `{cur}` (every replica an entity of the Cluster.Sharding region, pinned to its node).", "",
  f"A 3-node cluster on 127.0.0.1, {shards} shards per initial node with replication factor 3: {int(shards) * 3:,} replicas per node plus the meta group. "
  f"Seconds from launching the three processes until all three answer `/readyz` (1 s resolution), base and current alternating, {rounds} round(s): median (each run).", "",
  "| | base | current |", "| --- | ---: | ---: |",
  f"| first start (empty data directories) | {cell('base', 0)} | {cell('current', 0)} |",
  f"| restart (same data, replicas from their manifests) | {cell('base', 1)} | {cell('current', 1)} |", "",
  "Raw output:", "", "```", out.rstrip(), "```"]
write_section(doc, "replica-start", lines)
PY
echo "wrote $DOC"
