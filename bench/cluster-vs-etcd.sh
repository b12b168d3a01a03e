#!/usr/bin/env bash
# A 3-node LsmRaft cluster and a 3-member etcd cluster (Debian's etcd-server) on loopback, both running for
# the whole run and measured in alternation (etcd row, LsmRaft row, ROUNDS times; the figures are medians),
# so a drift of the machine's speed hits both alike; driven by the same load generator (LsmRaft.Bench cluster) with the same workload:
# 16-byte keys, 100-byte values, 16 and 64 concurrent connections spread over the three nodes, SECONDS per
# load, writes then linearizable reads. fsync is on for both (etcd's default; LsmRaft's node log syncs every
# group commit). Rewrites the section between cluster-vs-etcd:begin/end in docs/benchmarks.md.
# Settings (environment): SECONDS_PER_LOAD (default 30), ROUNDS (alternating repetitions per row, default 3), WARMUP (seconds of unmeasured load before each row, default 5), WORK_DIR (default ./data/cluster-vs-etcd), DOC.
# Ports used on 127.0.0.1: 23791-23796 (etcd), 28081-28086 (LsmRaft).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { echo "etcd not found: apt-get install etcd-server" >&2; exit 2; }
NAME=cluster-vs-etcd DEFAULT_SECONDS=30
source bench/lib/cluster-bench.sh

row() { # target endpoints op connections
  $BENCH cluster --target="$1" --endpoints="$2" --op="$3" --connections="$4" --seconds="$SECONDS_PER_LOAD" --warmup="$WARMUP"
}

load_start=$(cut -d' ' -f1 /proc/loadavg)
etcd_start
lsmraft_start "$LSMRAFT" 28080 lsmraft
lsm_endpoints=$(lsmraft_endpoints 28080)

etcd_out=""; lsm_out=""
for op in put get; do
  for c in 16 64; do
    for round in $(seq 1 "$ROUNDS"); do
      etcd_out+="$(row etcd "$etcd_endpoints" "$op" "$c")"$'\n'
      lsm_out+="$(row lsmraft "$lsm_endpoints" "$op" "$c")"$'\n'
    done
  done
done
bench_stop_all
load_end=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$DOC" "$etcd_out" "$lsm_out" "$SECONDS_PER_LOAD" "$load_start" "$load_end" "$(etcd --version | head -1)" "$WARMUP" "$ROUNDS" <<'PY'
import sys
sys.path.insert(0, "bench/lib")
from report import cluster_medians, measured, write_section
doc, etcd_out, lsm_out, secs, l0, l1, etcdv, warm, rounds = sys.argv[1:10]
med = cluster_medians(etcd_out + "\n" + lsm_out, lambda label, target, protocol, op, c: (target, op, c))
lines = ["## 3-node cluster vs etcd", "",
 f"{measured('bench/cluster-vs-etcd.sh', l0, l1)} {etcdv}; etcd v3 JSON gateway.",
 f"Both clusters run as three processes each on 127.0.0.1 with fsync on, side by side for the whole run; the same closed-loop load generator (`LsmRaft.Bench cluster`) drives one of them at a time, alternating etcd and LsmRaft {rounds} times per row (figures: the median of each metric over the rounds), for {secs} s per run after {warm} s of the same load that is not measured (connections, JIT tiers and caches settle; the same for both), connections spread over the three nodes; 16-byte keys from a 100,000-key space, 100-byte values; reads are linearizable.", "",
 "| load | etcd ops/s | LsmRaft ops/s | LsmRaft/etcd | etcd p50 / p99 µs | LsmRaft p50 / p99 µs | errors (etcd / LsmRaft) |",
 "| --- | ---: | ---: | ---: | --- | --- | --- |"]
for op in ("put", "get"):
    for c in (16, 64):
        a, b = med.get(("etcd", op, c)), med.get(("lsmraft", op, c))
        if not a or not b: continue
        lines.append(f"| {'writes' if op=='put' else 'reads'}, {c} connections | {a[0]:,} | {b[0]:,} | {b[0]/max(a[0],1):.2f} | {a[1]:,} / {a[2]:,} | {b[1]:,} / {b[2]:,} | {a[3]} / {b[3]} |")
lines += ["", "Raw output:", "", "```", etcd_out, lsm_out, "```"]
write_section(doc, "cluster-vs-etcd", lines)
PY
echo "wrote $DOC"
