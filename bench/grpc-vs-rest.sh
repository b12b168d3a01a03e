#!/usr/bin/env bash
# gRPC against REST on the same 3-node LsmRaft cluster: one cluster runs for the whole run and the same closed-loop
# load generator (LsmRaft.Bench cluster) drives it over REST, then over gRPC, alternating ROUNDS times per row (the
# figures are medians over the rounds), so a drift of the machine's speed hits both protocols alike. Workload: 16-byte
# keys from a 100,000-key space, 100-byte values, 16 and 64 concurrent callers spread over the three nodes, writes then
# linearizable reads. REST: HTTP/1.1, one connection per caller, raw bytes; gRPC: HTTP/2, one channel per node, calls
# multiplexed. Rewrites the section between grpc-vs-rest:begin/end in docs/benchmarks.md.
# Settings (environment): SECONDS_PER_LOAD (default 20), ROUNDS (default 3), WARMUP (default 5), WORK_DIR (default ./data/grpc-vs-rest), DOC.
# Ports used on 127.0.0.1: 28181-28186.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=grpc-vs-rest DEFAULT_SECONDS=20
source bench/lib/cluster-bench.sh

endpoints=$(lsmraft_endpoints 28180)
load_start=$(cut -d' ' -f1 /proc/loadavg)
lsmraft_start "$LSMRAFT" 28180 lsmraft

out=""
for op in put get; do
  for c in 16 64; do
    for round in $(seq 1 "$ROUNDS"); do
      for protocol in rest grpc; do
        out+="$($BENCH cluster --target=lsmraft --protocol="$protocol" --endpoints="$endpoints" --op="$op" --connections="$c" --seconds="$SECONDS_PER_LOAD" --warmup="$WARMUP")"$'\n'
      done
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
med = cluster_medians(out, lambda label, target, protocol, op, c: (protocol, op, c))
lines = ["## gRPC vs REST on one 3-node cluster", "",
 measured("bench/grpc-vs-rest.sh", l0, l1),
 f"One LsmRaft cluster (three processes on 127.0.0.1, fsync on) serves both protocols on its HTTP ports; the closed-loop load generator (`LsmRaft.Bench cluster --protocol=rest|grpc`) alternates REST and gRPC {rounds} times per row (figures: the median of each metric over the rounds), {secs} s per run after {warm} s of unmeasured load; callers spread over the three nodes; 16-byte keys from a 100,000-key space, 100-byte values; reads are linearizable. REST: HTTP/1.1, a connection per caller, raw-bytes bodies; gRPC: HTTP/2, one channel per node with the calls multiplexed.", "",
 "| load | REST ops/s | gRPC ops/s | gRPC/REST | REST p50 / p99 µs | gRPC p50 / p99 µs | errors (REST / gRPC) |",
 "| --- | ---: | ---: | ---: | --- | --- | --- |"]
for op in ("put", "get"):
    for c in (16, 64):
        a, b = med.get(("rest", op, c)), med.get(("grpc", op, c))
        if not a or not b: continue
        lines.append(f"| {'writes' if op=='put' else 'reads'}, {c} callers | {a[0]:,} | {b[0]:,} | {b[0]/max(a[0],1):.2f} | {a[1]:,} / {a[2]:,} | {b[1]:,} / {b[2]:,} | {a[3]} / {b[3]} |")
lines += ["", "Raw output:", "", "```", out.strip(), "```"]
write_section(doc, "grpc-vs-rest", lines)
PY
echo "wrote $DOC"
