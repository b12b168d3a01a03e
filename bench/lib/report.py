"""The bench scripts' report steps, shared: read the result lines of `LsmRaft.Bench cluster`, take their medians,
say when and on what machine a run was measured, and rewrite a script's own section of a Markdown file.
The scripts' inline Python imports it (they run from the repository root: `sys.path.insert(0, "bench/lib")`);
`python3 bench/lib/report.py DOC NAME` replaces section NAME of DOC with the text on stdin."""
import datetime
import os
import re
import statistics
import subprocess
import sys

# One run of `LsmRaft.Bench cluster`, optionally after a label the script put in front of it.
_CLUSTER_LINE = re.compile(r"(?:(\w+) )?cluster target=(\w+)(?: protocol=(\w+))? op=(\w+) connections=(\d+): "
                           r"(\d+) ops/sec\s+p50 (\d+) micros\s+p99 (\d+) micros\s+errors (\d+)")


def cluster_medians(text, key):
    """The `LsmRaft.Bench cluster` lines of text, grouped by key(label, target, protocol, op, connections) (protocol
    "rest" when the line names none): {key: (ops/s, p50 µs, p99 µs, errors)}, each metric the median over the group's
    runs, errors summed."""
    runs = {}
    for line in text.splitlines():
        m = _CLUSTER_LINE.match(line)
        if m:
            label, target, protocol, op, connections = m.group(1, 2, 3, 4, 5)
            runs.setdefault(key(label, target, protocol or "rest", op, int(connections)), []).append(tuple(int(x) for x in m.group(6, 7, 8, 9)))
    return {k: (int(statistics.median(r[0] for r in v)), int(statistics.median(r[1] for r in v)),
                int(statistics.median(r[2] for r in v)), sum(r[3] for r in v)) for k, v in runs.items()}


def measured(script, load_start, load_end):
    """`Measured <UTC time> by `script` on N cores (CPU); load average ... at start, ... at end.`"""
    cpu = subprocess.run("lscpu | sed -n 's/^Model name: *//p' | head -1", shell=True, capture_output=True, text=True).stdout.strip()
    return (f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `{script}` on {os.cpu_count()} cores ({cpu}); "
            f"load average {load_start} at start, {load_end} at end.")


def replace_section(doc, name, section):
    """Puts section (which starts with <!-- name:begin --> and ends with <!-- name:end -->) in doc in place of the
    section of that name, or at its end when it has none; creates doc when it does not exist."""
    text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- {re.escape(name)}:begin -->.*?<!-- {re.escape(name)}:end -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    with open(doc, "w") as f:
        f.write(text)


def write_section(doc, name, lines):
    """replace_section with the lines between the section's begin and end markers."""
    replace_section(doc, name, "\n".join([f"<!-- {name}:begin -->", *lines, f"<!-- {name}:end -->"]))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 bench/lib/report.py DOC NAME < section")
    replace_section(sys.argv[1], sys.argv[2], sys.stdin.read())
