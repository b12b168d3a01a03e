#!/usr/bin/env bash
# Runs RocksDB's db_bench and LsmRaft's storage benchmark side by side with the same workload and
# rewrites the "Storage engine vs RocksDB db_bench" section of docs/benchmarks.md (between the
# storage-vs-rocksdb:begin/end markers; the rest of the file is kept).
#
# Order: for each benchmark, RocksDB then LsmRaft, each in its own process and its own database
# directory: fillseq (fresh), fillrandom (fresh), then overwrite, readrandom, readseq, seekrandom
# with --use_existing_db=1, so every read benchmark reads what the same engine's fillrandom and
# overwrite wrote. Benchmark k (counting from 0, one thread) runs with --seed=SEED+k: db_bench seeds
# a thread with seed + threads started so far in the process, so this gives each benchmark the keys
# one db_bench process running the whole list with --seed=SEED would draw (overwrite then hits
# other keys than fillrandom), and both engines get the same keys.
# Then fillrandom with --sync=1 --threads=SYNC_THREADS --num=SYNC_NUM on fresh databases, and the
# disk's single-writer fsync rate.
#
# Settings (environment): NUM KEY_SIZE VALUE_SIZE WRITE_BUFFER_SIZE CACHE_SIZE BLOOM_BITS SEED
# SYNC_NUM SYNC_THREADS FSYNC_NUM WORK_DIR DOC. Needs db_bench (Debian/Ubuntu: rocksdb-tools),
# /usr/bin/time, python3 and the .NET SDK. Rerunnable: it deletes and recreates WORK_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NUM=${NUM:-1000000}
KEY_SIZE=${KEY_SIZE:-16}
VALUE_SIZE=${VALUE_SIZE:-100}
WRITE_BUFFER_SIZE=${WRITE_BUFFER_SIZE:-4194304}   # LsmOptions.FlushThresholdBytes default
CACHE_SIZE=${CACHE_SIZE:-8388608}                 # db_bench default and LsmRaft's private cache
BLOOM_BITS=${BLOOM_BITS:-10}
SEED=${SEED:-1}
SYNC_NUM=${SYNC_NUM:-10000}
SYNC_THREADS=${SYNC_THREADS:-8}
FSYNC_NUM=${FSYNC_NUM:-2000}
WORK=${WORK_DIR:-$ROOT/data/storage-vs-rocksdb}
DOC=${DOC:-$ROOT/docs/benchmarks.md}
BENCHMARKS=(fillseq fillrandom overwrite readrandom readseq seekrandom)

for tool in db_bench /usr/bin/time python3 dotnet; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (db_bench: apt-get install rocksdb-tools)" >&2; exit 2; }
done

rm -rf "$WORK"
mkdir -p "$WORK/out"
OUT=$WORK/out
# Other processes' CPU and disk use skew every figure; the report records the load around the run.
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)

dotnet build -c Release "$ROOT/bench/LsmRaft.Bench" -nologo -v quiet >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; exit 1; }
LSMRAFT=(dotnet "$ROOT/bench/LsmRaft.Bench/bin/Release/net10.0/LsmRaft.Bench.dll")

COMMON=(--key_size="$KEY_SIZE" --value_size="$VALUE_SIZE" --write_buffer_size="$WRITE_BUFFER_SIZE"
        --cache_size="$CACHE_SIZE" --bloom_bits="$BLOOM_BITS" --histogram=1)
# RocksDB settings matched to LsmOptions' defaults: no compression (LsmRaft has none), WAL on,
# 1 active + 2 immutable memtables, L0 triggers 4/20/36, L1 64 MiB, x10 per level, 7 levels,
# 8 MiB target files, 4 KiB blocks; filters are full Bloom filters in both.
ROCKSDB_ONLY=(--compression_type=none --compression_ratio=0.5 --disable_wal=0 --max_write_buffer_number=3
              --level0_file_num_compaction_trigger=4 --level0_slowdown_writes_trigger=20
              --level0_stop_writes_trigger=36 --max_bytes_for_level_base=67108864
              --max_bytes_for_level_multiplier=10 --num_levels=7 --target_file_size_base=8388608
              --block_size=4096 --stats_interval_seconds=0)

# run LABEL ENGINE ARGS...: one process, its stdout/stderr and peak resident set (KiB) kept under $OUT.
run() {
  local label=$1 engine=$2; shift 2
  local cmd
  if [[ $engine == rocksdb ]]; then cmd=(db_bench "$@" "${ROCKSDB_ONLY[@]}"); else cmd=("${LSMRAFT[@]}" storage "$@"); fi
  printf '%q ' "${cmd[@]}" >"$OUT/$engine-$label.cmd"
  echo "== $engine $label"
  if /usr/bin/time -f %M -o "$OUT/$engine-$label.rss" "${cmd[@]}" >"$OUT/$engine-$label.txt" 2>"$OUT/$engine-$label.err"; then
    grep -E "^$label +:" "$OUT/$engine-$label.txt" | head -1 || true
  else
    echo "   $engine $label failed; see $OUT/$engine-$label.err" >&2
  fi
}

k=0
for b in "${BENCHMARKS[@]}"; do
  existing=1
  [[ $b == fillseq || $b == fillrandom ]] && existing=0
  seed=$((SEED + k))
  for engine in rocksdb lsmraft; do
    run "$b" "$engine" --benchmarks="$b" --num="$NUM" --threads=1 --sync=0 --seed="$seed" \
      --use_existing_db="$existing" --db="$WORK/$engine" "${COMMON[@]}"
  done
  k=$((k + 1))
done

for engine in rocksdb lsmraft; do
  run fillrandom-sync "$engine" --benchmarks=fillrandom --num="$SYNC_NUM" --threads="$SYNC_THREADS" --sync=1 \
    --seed="$SEED" --use_existing_db=0 --db="$WORK/$engine-sync" "${COMMON[@]}"
done
# run() greps for the label; the sync runs print "fillrandom", so show their lines here.
grep -hE '^fillrandom +:' "$OUT"/*-fillrandom-sync.txt || true

echo "== fsync"
"${LSMRAFT[@]}" fsync --num="$FSYNC_NUM" --db="$WORK/fsync" | tee "$OUT/fsync.txt"

# Machine description for the report.
{
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cores=$(nproc)"
  echo "ram=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "disk=$(df -hT "$WORK" | awk 'NR==2 {print $1 ", " $2 ", " $3 " total, " $5 " free"}')"
  echo "kernel=$(uname -sr)"
  echo "dotnet=$(dotnet --version)"
  echo "rocksdb=$(db_bench --version 2>&1 | head -1)"
  echo "assertions=$(grep -c 'Assertions are enabled' "$OUT/rocksdb-fillseq.txt" || true)"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "load=$LOAD_START / $(cut -d' ' -f1 /proc/loadavg)"
} >"$OUT/machine.txt"

python3 - "$OUT" "$DOC" "$NUM" "$KEY_SIZE" "$VALUE_SIZE" "$WRITE_BUFFER_SIZE" "$CACHE_SIZE" "$BLOOM_BITS" \
  "$SEED" "$SYNC_NUM" "$SYNC_THREADS" "$FSYNC_NUM" "${BENCHMARKS[@]}" <<'PY'
import os, re, sys

out, doc, num, key_size, value_size, wbs, cache, bloom, seed, sync_num, sync_threads, fsync_num = sys.argv[1:13]
benchmarks = sys.argv[13:]
BEGIN, END = "<!-- storage-vs-rocksdb:begin -->", "<!-- storage-vs-rocksdb:end -->"

LINE = re.compile(r"^(\S+)\s+:\s+([\d.]+) micros/op (\d+) ops/sec ([\d.]+) seconds (\d+) operations;(?:\s+([\d.]+) MB/s)?\s*(.*)$")
PCT = re.compile(r"Percentiles: P50: ([\d.]+) P75: [\d.]+ P99: ([\d.]+) P99\.9: ([\d.]+)")

def parse(engine, label):
    path = os.path.join(out, f"{engine}-{label}.txt")
    result = {"ok": False, "cmd": read(os.path.join(out, f"{engine}-{label}.cmd")).strip()}
    text = read(path)
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            result.update(ok=True, micros=float(m[2]), ops=int(m[3]), seconds=float(m[4]), done=int(m[5]),
                          mbs=float(m[6]) if m[6] else None, message=m[7].strip())
            break
    m = PCT.search(text)
    if m:
        result.update(p50=float(m[1]), p99=float(m[2]), p999=float(m[3]))
    rss = read(os.path.join(out, f"{engine}-{label}.rss")).strip().splitlines()
    if result["ok"] and rss and rss[-1].isdigit():
        result["rss"] = int(rss[-1]) / 1024.0
    return result

def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""

def num_or_dash(value, fmt):
    return "—" if value is None else format(value, fmt)

def ratio(a, b):
    return "—" if a is None or not b else f"{a / b:.2f}"

machine = dict(line.split("=", 1) for line in read(os.path.join(out, "machine.txt")).splitlines() if "=" in line)
rows = [(b, parse("rocksdb", b), parse("lsmraft", b)) for b in benchmarks]
sync_label = f"fillrandom --sync=1 --threads={sync_threads} --num={sync_num}"
sync_row = (sync_label, parse("rocksdb", "fillrandom-sync"), parse("lsmraft", "fillrandom-sync"))
fsync_text = read(os.path.join(out, "fsync.txt"))
fm = re.search(r"fsync: (\d+) ops/sec, p50 ([\d.]+) micros", fsync_text)
fsync_rate = int(fm[1]) if fm else None

L = []
L.append(BEGIN)
L.append("## Storage engine vs RocksDB db_bench")
L.append("")
L.append(f"Measured {machine.get('date', '?')} by `bench/storage-vs-rocksdb.sh` (rerun it to refresh this section).")
L.append("")
L.append("Machine:")
L.append("")
L.append(f"- CPU: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores; RAM {machine.get('ram', '?')}")
L.append(f"- Disk: {machine.get('disk', '?')} (filesystem of the database directories)")
L.append(f"- Kernel: {machine.get('kernel', '?')}; .NET SDK {machine.get('dotnet', '?')}; {machine.get('rocksdb', '?')}")
L.append(f"- Load average (1 min) at start / end of the run: {machine.get('load', '?')}; above the core count means "
         "other processes competed for the CPU and the figures are lower and noisier than on an idle machine")
if machine.get("assertions", "0") not in ("", "0"):
    L.append("- The distribution's db_bench prints \"Assertions are enabled; benchmarks unnecessarily slow\": "
             "RocksDB here is an assert-enabled build, so its figures understate an optimised RocksDB.")
L.append("")
L.append(f"Workload: --num={num} --key_size={key_size} --value_size={value_size} --threads=1 --sync=0, "
         f"--write_buffer_size={wbs}, --cache_size={cache}, --bloom_bits={bloom} (LsmRaft: false-positive rate "
         f"exp(-{bloom}·ln²2)), --seed={seed}+k for the k-th benchmark. Keys, values and random key sequences are "
         "db_bench's own (LsmRaft.Bench reproduces its generators), so both engines see the same bytes. Values are "
         "db_bench's compressible data; RocksDB runs with --compression_type=none because LsmRaft has no compression. "
         "Each benchmark runs in its own process, alternating RocksDB then LsmRaft; overwrite and the read benchmarks "
         "reuse the database the same engine's fillrandom filled. Peak RSS is /usr/bin/time's maximum resident set "
         "of that process.")
L.append("")
L.append("| benchmark | RocksDB ops/s | LsmRaft ops/s | LsmRaft/RocksDB | RocksDB micros/op | LsmRaft micros/op | RocksDB MB/s | LsmRaft MB/s | found (RocksDB / LsmRaft) |")
L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for name, r, l in rows + [sync_row]:
    found = " / ".join(x.get("message", "") or "—" for x in (r, l)) if (r.get("message") or l.get("message")) else ""
    L.append(f"| {name} | {num_or_dash(r.get('ops'), ',d')} | {num_or_dash(l.get('ops'), ',d')} | {ratio(l.get('ops'), r.get('ops'))} "
             f"| {num_or_dash(r.get('micros'), '.3f')} | {num_or_dash(l.get('micros'), '.3f')} "
             f"| {num_or_dash(r.get('mbs'), '.1f')} | {num_or_dash(l.get('mbs'), '.1f')} | {found} |")
L.append("")
L.append("Latency per operation in microseconds (p50 / p99 / p99.9; RocksDB from db_bench's --histogram, "
         "LsmRaft from its log-linear histogram with <1% bucket error) and peak resident set:")
L.append("")
L.append("| benchmark | RocksDB p50 / p99 / p99.9 | LsmRaft p50 / p99 / p99.9 | RocksDB peak RSS MiB | LsmRaft peak RSS MiB |")
L.append("| --- | --- | --- | ---: | ---: |")
def pct(x):
    return "—" if "p50" not in x else f"{x['p50']:.2f} / {x['p99']:.2f} / {x['p999']:.2f}"
for name, r, l in rows + [sync_row]:
    L.append(f"| {name} | {pct(r)} | {pct(l)} | {num_or_dash(r.get('rss'), '.1f')} | {num_or_dash(l.get('rss'), '.1f')} |")
L.append("")
if fsync_rate:
    L.append(f"Disk fsync rate (`LsmRaft.Bench fsync --num={fsync_num}`: one writer appends 4 KiB and fsyncs): "
             f"**{fsync_rate:,d} fsync/s**, p50 {float(fm[2]):.1f} micros.")
    L.append("")
    L.append(f"Synced writes per fsync ({sync_label} writes/s ÷ fsync/s; above 1 means group commit shares fsyncs "
             f"between writers): RocksDB {ratio(sync_row[1].get('ops'), fsync_rate)}, "
             f"LsmRaft {ratio(sync_row[2].get('ops'), fsync_rate)}.")
    L.append("")
failed = [f"{e} {n}" for n, r, l in rows + [sync_row] for e, x in (("RocksDB", r), ("LsmRaft", l)) if not x["ok"]]
if failed:
    L.append("Did not produce a result (see the .err files under the script's work directory): " + ", ".join(failed) + ".")
    L.append("")
L.append("Commands (one per process, in the order run):")
L.append("")
L.append("```sh")
for name, r, l in rows + [sync_row]:
    L.append(r["cmd"])
    L.append(l["cmd"])
L.append(f"LsmRaft.Bench fsync --num={fsync_num} --db=<work>/fsync")
L.append("```")
L.append(END)
section = "\n".join(L) + "\n"

root = os.path.dirname(os.path.dirname(os.path.abspath(doc)))
section = section.replace(root + "/", "")

existing = read(doc)
if BEGIN in existing and END in existing:
    before = existing[: existing.index(BEGIN)]
    after = existing[existing.index(END) + len(END):].lstrip("\n")
    text = before + section + ("\n" + after if after else "")
elif existing:
    text = existing.rstrip("\n") + "\n\n" + section
else:
    text = "# Benchmarks\n\nEvery figure here comes from a script in `bench/` that anyone can rerun.\n\n" + section
os.makedirs(os.path.dirname(os.path.abspath(doc)), exist_ok=True)
with open(doc, "w", encoding="utf-8") as f:
    f.write(text)
print(f"wrote {doc}")
PY
