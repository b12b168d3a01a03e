#!/usr/bin/env bash
# Side by side: the storage engine's own background scheduler (a flush thread and a compaction loop per engine)
# against the node's Akka.Streams pipelines (LsmRaft.Actors.Background), under the same write load. Rewrites the
# "Background scheduler: engine vs Akka.Streams" section of docs/benchmarks.md (between the storage-scheduler
# markers; the rest of the file is kept).
#
# Each round runs `LsmRaft.Bench storage --benchmarks=BENCHMARKS` once per scheduler, each in its own process and its
# own fresh database, alternating which goes first (round 1: engine first, round 2: akka first, ...). The writes
# switch memtables every WRITE_BUFFER_SIZE bytes, so the write rate includes every stall on flushes and L0
# compactions: a slower scheduler shows up as fewer writes per second. Reported: the median ops/s of each benchmark
# over the rounds, every round's figure, and the process CPU time (user + sys, /usr/bin/time).
#
# Settings (environment): NUM (default 1000000) VALUE_SIZE (100) WRITE_BUFFER_SIZE (1048576: many flushes and
# compactions) ROUNDS (3) SEED (1) BENCHMARKS (fillrandom,overwrite) WORK_DIR DOC. Needs /usr/bin/time, python3, .NET SDK.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NUM=${NUM:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
WRITE_BUFFER_SIZE=${WRITE_BUFFER_SIZE:-1048576}
ROUNDS=${ROUNDS:-3}
SEED=${SEED:-1}
BENCHMARKS=${BENCHMARKS:-fillrandom,overwrite}
WORK=${WORK_DIR:-$ROOT/data/storage-scheduler}
DOC=${DOC:-$ROOT/docs/benchmarks.md}

for tool in /usr/bin/time python3 dotnet; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 2; }
done
rm -rf "$WORK"
mkdir -p "$WORK/out"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
dotnet build -c Release "$ROOT/bench/LsmRaft.Bench" -nologo -v quiet >"$WORK/out/build.log" 2>&1 || { cat "$WORK/out/build.log" >&2; exit 1; }
BENCH=(dotnet "$ROOT/bench/LsmRaft.Bench/bin/Release/net10.0/LsmRaft.Bench.dll")

for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 == 1 )); then order=(engine akka); else order=(akka engine); fi
  for scheduler in "${order[@]}"; do
    label="$scheduler-$round"
    echo "round $round: $scheduler" >&2
    /usr/bin/time -f "%U %S %M" -o "$WORK/out/$label.time" \
      "${BENCH[@]}" storage --benchmarks="$BENCHMARKS" --num="$NUM" --value_size="$VALUE_SIZE" \
      --write_buffer_size="$WRITE_BUFFER_SIZE" --seed="$SEED" --scheduler="$scheduler" --db="$WORK/db-$label" \
      >"$WORK/out/$label.out" 2>"$WORK/out/$label.err"
    rm -rf "$WORK/db-$label"
  done
done
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$WORK/out" "$DOC" "$ROUNDS" "$BENCHMARKS" "$NUM" "$VALUE_SIZE" "$WRITE_BUFFER_SIZE" "$SEED" "$LOAD_START" "$LOAD_END" <<'PY'
import os, re, statistics, subprocess, sys
out, doc, rounds, benchmarks, num, value_size, wbs, seed, load_start, load_end = sys.argv[1:]
rounds = int(rounds)
names = benchmarks.split(",")
BEGIN, END = "<!-- storage-scheduler:begin -->", "<!-- storage-scheduler:end -->"
res = {s: {n: [] for n in names} for s in ("engine", "akka")}
cpu = {s: [] for s in ("engine", "akka")}
for s in ("engine", "akka"):
    for r in range(1, rounds + 1):
        text = open(os.path.join(out, f"{s}-{r}.out")).read()
        for n in names:
            m = re.search(rf"^{n}\s+:\s+[\d.]+ micros/op (\d+) ops/sec", text, re.M)
            res[s][n].append(int(m.group(1)) if m else None)
        u, sy, _ = open(os.path.join(out, f"{s}-{r}.time")).read().split()[-3:]
        cpu[s].append(float(u) + float(sy))
cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
med = lambda xs: statistics.median([x for x in xs if x is not None]) if any(x is not None for x in xs) else None
L = [BEGIN, "## Background scheduler: engine vs Akka.Streams", ""]
L.append(f"`bench/storage-scheduler.sh` (commit `{commit}`): the engine's own flush thread and compaction loop against the "
         f"node's Akka.Streams pipelines, same write load, {rounds} alternating rounds, fresh database per run. "
         f"{num} keys of 16 bytes, values of {value_size} bytes, {wbs}-byte memtables (many flushes and L0 compactions), "
         f"seed {seed}, one writer thread, no fsync. Machine: {os.cpu_count()} × {cpu_model}; load average "
         f"{load_start} before, {load_end} after.")
L.append("")
L.append("| benchmark | engine ops/s (median) | Akka.Streams ops/s (median) | Akka / engine | engine, per round | Akka, per round |")
L.append("| --- | ---: | ---: | ---: | --- | --- |")
for n in names:
    e, a = med(res["engine"][n]), med(res["akka"][n])
    ratio = f"{a / e:.3f}" if e and a else "n/a"
    fmt = lambda xs: ", ".join(f"{x:,}" if x is not None else "failed" for x in xs)
    L.append(f"| {n} | {e:,.0f} | {a:,.0f} | {ratio} | {fmt(res['engine'][n])} | {fmt(res['akka'][n])} |")
L.append(f"| process CPU (user+sys, s) | {med(cpu['engine']):.1f} | {med(cpu['akka']):.1f} | {med(cpu['akka']) / med(cpu['engine']):.3f} | "
         + ", ".join(f"{x:.1f}" for x in cpu["engine"]) + " | " + ", ".join(f"{x:.1f}" for x in cpu["akka"]) + " |")
L.append("")
L.append("Command per run (scheduler = engine | akka):")
L.append("")
L.append("```sh")
L.append(f"LsmRaft.Bench storage --benchmarks={benchmarks} --num={num} --value_size={value_size} "
         f"--write_buffer_size={wbs} --seed={seed} --scheduler=<engine|akka> --db=<fresh dir>")
L.append("```")
L.append(END)
section = "\n".join(L) + "\n"
existing = open(doc).read() if os.path.exists(doc) else ""
if BEGIN in existing and END in existing:
    before = existing[: existing.index(BEGIN)]
    after = existing[existing.index(END) + len(END):].lstrip("\n")
    text = before + section + ("\n" + after if after else "")
else:
    marker = "<!-- storage-vs-rocksdb:end -->"
    if marker in existing:
        i = existing.index(marker) + len(marker)
        text = existing[:i] + "\n\n" + section + existing[i:]
    else:
        text = existing.rstrip("\n") + "\n\n" + section
with open(doc, "w", encoding="utf-8") as f:
    f.write(text)
print(f"wrote {doc}")
PY
