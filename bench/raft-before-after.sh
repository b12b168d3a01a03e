#!/usr/bin/env bash
# The in-memory Raft benchmark (bench/LsmRaft.Bench `raft --disk=memory`: 3 replicas in one process on the
# in-memory transport and logs) on BASE_REF (default: the last commit before the replicas moved onto Akka.NET)
# and on the working tree, alternating ROUNDS times per proposer count, so a drift of the machine's speed hits
# both alike; then the medians. Rewrites the section between raft-before-after:begin/end in docs/benchmarks.md.
# Settings (environment): BASE_REF (7a744f9), PROPOSERS ("1 16 64"), SECONDS_PER_RUN (5), ROUNDS (3),
# WORK_DIR (./data/raft-before-after), DOC.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_REF=${BASE_REF:-7a744f9}
PROPOSERS=${PROPOSERS:-"1 16 64"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-3}
WORK_DIR=${WORK_DIR:-./data/raft-before-after}
DOC=${DOC:-docs/benchmarks.md}

rm -rf "$WORK_DIR"; mkdir -p "$WORK_DIR"
source bench/lib/base-build.sh
base_build "$BASE_REF" bench/LsmRaft.Bench src bench
dotnet build -c Release bench/LsmRaft.Bench >/dev/null
declare -A DLL=([base]="$base_src/bench/LsmRaft.Bench/bin/Release/net10.0/LsmRaft.Bench.dll" [current]="bench/LsmRaft.Bench/bin/Release/net10.0/LsmRaft.Bench.dll")

load_start=$(cut -d' ' -f1 /proc/loadavg)
raw=""
declare -A results
for p in $PROPOSERS; do
  for round in $(seq 1 "$ROUNDS"); do
    for which in base current; do
      line=$(dotnet "${DLL[$which]}" raft --disk=memory --proposers="$p" --seconds="$SECONDS_PER_RUN" --db="$WORK_DIR/db" | tail -1)
      ops=$(echo "$line" | sed -n 's/.*: *\([0-9]*\) commits\/sec.*/\1/p')
      p99=$(echo "$line" | sed -n 's/.* p99 *\([0-9.]*\) micros.*/\1/p')
      cpu=$(echo "$line" | sed -n 's/.* cpu *\([0-9.]*\) micros\/commit.*/\1/p')
      results[$which,$p]+="$ops/$p99/$cpu "
      raw+="$which proposers=$p round $round: $line
"
      echo "$which p=$p round $round: $ops commits/s p99 $p99 µs cpu $cpu µs/commit" >&2
    done
  done
done
load_end=$(cut -d' ' -f1 /proc/loadavg)
median() { python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
field() { for t in $1; do echo "$t" | cut -d/ -f"$2"; done; }
rows=""
for p in $PROPOSERS; do
  bo=$(median $(field "${results[base,$p]}" 1)); co=$(median $(field "${results[current,$p]}" 1))
  bp=$(median $(field "${results[base,$p]}" 2)); cp=$(median $(field "${results[current,$p]}" 2))
  bc=$(median $(field "${results[base,$p]}" 3)); cc=$(median $(field "${results[current,$p]}" 3))
  change=$(python3 -c "print(f'{($co/$bo-1)*100:+.1f} %')")
  rows+="| $p | $(printf %.0f "$bo") | $(printf %.0f "$co") | $change | $bp | $cp | $bc | $cc |
"
done
section=$(cat <<MD
<!-- raft-before-after:begin -->
## Raft replication before and after the Akka.NET actors (in-memory, one process)

Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/raft-before-after.sh\` on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)); load average $load_start at start, $load_end at end.
\`base\` = $base_commit (replicas on the home-made kernel), \`current\` = $current_commit (replicas on Akka.NET); each row alternates base and current ${ROUNDS} times, ${SECONDS_PER_RUN} s per run after 2 s of warm-up; medians. \`bench/LsmRaft.Bench raft --disk=memory\`: 3 replicas, in-memory transport, logs and engines, P proposers each looping "propose a 100-byte put, wait until committed and applied".

| proposers | base commits/s | current commits/s | change | base p99 µs | current p99 µs | base cpu µs/commit | current cpu µs/commit |
|---:|---:|---:|---:|---:|---:|---:|---:|
$rows
<details><summary>raw lines</summary>

\`\`\`
$raw\`\`\`
</details>
<!-- raft-before-after:end -->
MD
)
printf '%s' "$section" | python3 bench/lib/report.py "$DOC" raft-before-after
echo "$section"
