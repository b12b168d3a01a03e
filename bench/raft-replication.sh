#!/usr/bin/env bash
# Measures Raft replication (issue 3): 3 replicas in one process on the in-memory transport, committed
# proposals per second and commit latency with 1, 16 and 64 concurrent proposers, with in-memory logs and
# engines and with real node logs on disk (fsync on), next to the disk's single-writer fsync rate measured
# in the same run. Rewrites the section between the raft-replication:begin/end markers of docs/benchmarks.md.
# Then ROUNDS more pairs "fsync rate, then 64 proposers on the real log", each giving a ratio, and their median:
# this machine's disk speed drifts by up to 2x within minutes, and a pair measured back to back shares the drift.
# Settings (environment): SECONDS_PER_RUN (default 10), ROUNDS (default 3), WORK_DIR (default ./data/raft-bench), DOC.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
ROUNDS=${ROUNDS:-3}
WORK_DIR=${WORK_DIR:-./data/raft-bench}
DOC=${DOC:-docs/benchmarks.md}
dotnet build -c Release bench/LsmRaft.Bench >/dev/null
BENCH="dotnet bench/LsmRaft.Bench/bin/Release/net10.0/LsmRaft.Bench.dll"
mkdir -p "$WORK_DIR"
load_start=$(cut -d' ' -f1 /proc/loadavg)
fsync_before=$($BENCH fsync --num=2000 --db="$WORK_DIR/fsync" | head -1)
memory=$($BENCH raft --disk=memory --seconds="$SECONDS_PER_RUN" --db="$WORK_DIR")
nodelog=$($BENCH raft --disk=nodelog --seconds="$SECONDS_PER_RUN" --db="$WORK_DIR")
fsync_after=$($BENCH fsync --num=2000 --db="$WORK_DIR/fsync" | head -1)
rate() { echo "$1" | sed -n 's/^fsync: \([0-9]*\) ops\/sec.*/\1/p'; }
commits64() { echo "$1" | sed -n 's/.*proposers= 64: *\([0-9]*\) commits.*/\1/p'; }
pairs=""
ratios=""
for round in $(seq 1 "$ROUNDS"); do
  f=$(rate "$($BENCH fsync --num=2000 --db="$WORK_DIR/fsync" | head -1)")
  c=$(commits64 "$($BENCH raft --disk=nodelog --proposers=64 --seconds="$SECONDS_PER_RUN" --db="$WORK_DIR" | tail -1)")
  r=$(python3 -c "print(f'{$c/$f:.1f}')")
  pairs="$pairs| $round | $f | $c | $r× |
"
  ratios="$ratios $r"
done
# The contended fsync: three writers at once on this disk, as the three replicas' logs are here.
contended=$($BENCH fsync --num=2000 --writers=3 --db="$WORK_DIR/fsync")
cmean=$(echo "$contended" | sed -n 's/.* mean \([0-9.]*\) p99.*/\1/p')
median=$(python3 -c "import statistics,sys; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.1f}')" $ratios)
load_end=$(cut -d' ' -f1 /proc/loadavg)
f1=$(rate "$fsync_before"); f2=$(rate "$fsync_after"); fmean=$(( (f1 + f2) / 2 ))
c64=$(commits64 "$nodelog")
ratio=$(python3 -c "print(f'{$c64/$fmean:.1f}')")
section=$(cat <<MD
<!-- raft-replication:begin -->
## Raft replication (3 replicas, one process)

Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/raft-replication.sh\` on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)); load average $load_start at start, $load_end at end.
Each run: 3 replicas of one group, in-memory transport, P proposers each looping "propose a 100-byte put, wait until committed and applied", ${SECONDS_PER_RUN} s measured after 2 s of unmeasured warm-up.
\`cpu\` and \`alloc\` are the whole process's CPU time and allocated bytes over the measured interval divided by the commits (three replicas and the proposers together).
\`memory\`: in-memory Raft logs and engines. \`nodelog\`: each replica has its own node log (fsync on, group commit) and engine on this disk — three logs sharing one disk.

\`\`\`
$fsync_before
$memory
$nodelog
$fsync_after
\`\`\`

With the real log and 64 proposers: $c64 commits/s = ${ratio}× the disk's single-writer fsync rate (mean $fmean fsync/s of the two measurements above).

Then $ROUNDS pairs, each an fsync measurement followed at once by a 64-proposer run on the real log (the disk's speed drifts; a pair shares it):

| round | fsync/s | commits/s | ratio |
|---|---|---|---|
$pairs
Median ratio: **${median}×** the single-writer fsync rate.

Why the ratio stops near here on this machine: the three replicas' logs share one disk, and three fsyncs at once take about twice as long as one:

\`\`\`
$contended
\`\`\`

A commit needs a follower's fsync of its entry, which starts only when the fsync in progress ends (half of one on average): at least
1.5 × ${cmean} µs. With 64 proposers each waiting for its commit, that caps the rate at 64 / (1.5 × ${cmean} µs) = $(python3 -c "print(f'{64/(1.5*$cmean*1e-6):.0f}')") commits/s
= $(python3 -c "print(f'{64/(1.5*$cmean*1e-6)/$fmean:.1f}')")× the single-writer rate *with no CPU time at all*; the two cores add the time from fsync completion to the reply (thread wake-ups, apply, reply).

Commands: \`SECONDS_PER_RUN=$SECONDS_PER_RUN ROUNDS=$ROUNDS bench/raft-replication.sh\`; by hand, \`dotnet run -c Release --project bench/LsmRaft.Bench -- raft --disk=memory|nodelog|nodelog-nosync --seconds=$SECONDS_PER_RUN\` and \`... -- fsync --num=2000\`.
<!-- raft-replication:end -->
MD
)
printf '%s' "$section" | python3 bench/lib/report.py "$DOC" raft-replication
echo "wrote $DOC"
