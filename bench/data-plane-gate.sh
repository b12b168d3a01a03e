#!/usr/bin/env bash
# The issue-11 data-plane gate: two 3-node LsmRaft clusters on loopback, one with the Kestrel peer transport
# (LSMRAFT_DATA_PLANE=kestrel, the default) and one with PeerLink over Akka.Remote (LSMRAFT_DATA_PLANE=akka), both
# running for the whole run and measured in alternation (kestrel row, akka row, ROUNDS times; the figures are medians),
# with bench/cluster-vs-etcd.sh's workload and load generator: 16-byte keys, 100-byte values, 16 and 64 connections
# spread over the three nodes, SECONDS_PER_LOAD per run, writes then linearizable reads, fsync on.
# Rule (issue 11): Akka is kept for the data plane only if in every row its throughput is at least 90% of Kestrel's
# and its p99 at most 120% of Kestrel's; otherwise Kestrel stays. Rewrites the section between data-plane-gate:begin/end
# in docs/benchmarks.md and prints the verdict.
# Settings (environment): SECONDS_PER_LOAD (default 30), ROUNDS (default 3), WARMUP (default 5), WORK_DIR (default
# ./data/data-plane-gate), DOC.
# Ports used on 127.0.0.1: 28081-28086 (Kestrel cluster), 28181-28186 (Akka cluster), and their Akka ports (+10000).
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=data-plane-gate DEFAULT_SECONDS=30
source bench/lib/cluster-bench.sh

row() { # label endpoints op connections
  echo -n "$1 "
  $BENCH cluster --target=lsmraft --endpoints="$2" --op="$3" --connections="$4" --seconds="$SECONDS_PER_LOAD" --warmup="$WARMUP"
}

load_start=$(cut -d' ' -f1 /proc/loadavg)
lsmraft_start "$LSMRAFT" 28080 kestrel LSMRAFT_DATA_PLANE=kestrel
lsmraft_start "$LSMRAFT" 28180 akka LSMRAFT_DATA_PLANE=akka
kestrel_endpoints=$(lsmraft_endpoints 28080)
akka_endpoints=$(lsmraft_endpoints 28180)

out=""
for op in put get; do
  for c in 16 64; do
    for round in $(seq 1 "$ROUNDS"); do
      out+="$(row kestrel "$kestrel_endpoints" "$op" "$c")"$'\n'
      out+="$(row akka "$akka_endpoints" "$op" "$c")"$'\n'
    done
  done
done
bench_stop_all
load_end=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$DOC" "$out" "$SECONDS_PER_LOAD" "$load_start" "$load_end" "$WARMUP" "$ROUNDS" <<'PY'
import sys
sys.path.insert(0, "bench/lib")
from report import cluster_medians, measured, write_section
doc, out, secs, l0, l1, warm, rounds = sys.argv[1:8]
med = cluster_medians(out, lambda label, target, protocol, op, c: (label, op, c))
rows, failed = [], []
for op in ("put", "get"):
    for c in (16, 64):
        k, a = med.get(("kestrel", op, c)), med.get(("akka", op, c))
        if not k or not a: continue
        rate, p99 = a[0] / max(k[0], 1), a[2] / max(k[2], 1)
        ok = rate >= 0.9 and p99 <= 1.2
        name = f"{'writes' if op == 'put' else 'reads'}, {c} connections"
        if not ok: failed.append(name)
        rows.append(f"| {name} | {k[0]:,} | {a[0]:,} | {rate:.2f} | {k[1]:,} / {k[2]:,} | {a[1]:,} / {a[2]:,} | {p99:.2f} | {k[3]} / {a[3]} | {'pass' if ok else 'FAIL'} |")
verdict = ("Akka passes in every row: PeerLink may carry the data plane." if rows and not failed else
           f"Akka fails the gate ({'; '.join(failed) if failed else 'no rows measured'}): the data plane stays on Kestrel (the default), Akka.Remote carries membership only.")
lines = ["## Data plane: Kestrel peer transport vs PeerLink over Akka.Remote (issue 11 gate)", "",
 f"{measured('bench/data-plane-gate.sh', l0, l1)} Command: `SECONDS_PER_LOAD={secs} WARMUP={warm} ROUNDS={rounds} bench/data-plane-gate.sh`.",
 f"Two 3-node LsmRaft clusters on 127.0.0.1 with fsync on, side by side for the whole run, identical but for `LSMRAFT_DATA_PLANE` (`kestrel`: the framed TCP peer transport; `akka`: PeerLink, one coalesced `PeerBatch` Akka.Remote message per flush per node pair; snapshots on the peer port in both); the same closed-loop load generator (`LsmRaft.Bench cluster`) drives one of them at a time, alternating {rounds} times per row (figures: the median of each metric over the rounds), {secs} s per run after {warm} s of unmeasured load, connections spread over the three nodes; 16-byte keys from a 100,000-key space, 100-byte values; reads are linearizable.",
 "Rule: Akka must reach at least 0.90 of Kestrel's throughput and at most 1.20 of its p99 in every row.", "",
 "| load | Kestrel ops/s | Akka ops/s | Akka/Kestrel | Kestrel p50 / p99 µs | Akka p50 / p99 µs | p99 Akka/Kestrel | errors (Kestrel / Akka) | gate |",
 "| --- | ---: | ---: | ---: | --- | --- | ---: | --- | --- |", *rows, "", f"**Verdict:** {verdict}", "", "Raw output:", "", "```", out.strip(), "```"]
write_section(doc, "data-plane-gate", lines)
print(verdict)
PY
echo "wrote $DOC"
