#!/usr/bin/env python3
"""Reads the trace make zfs-test prints with ZFS_TEST_TRACE=PHASE
(scripts/zfs-workload.sh: kprobes on zio_buf_alloc/zio_data_buf_alloc of
128 KiB and their frees, a stack on every allocation) from a console log,
and says how many such buffers ZFS held at once at most, when (the most
held in each quarter second), who allocated the ones held at that moment
(by their callers' frames) and who freed them.

  scripts/zfs-trace.py CONSOLE.LOG [--frames N]
"""
import argparse
import collections
import re
import sys

EVENT = re.compile(
    r"^\s*(?P<task>.+?)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+\S+\s+(?P<ts>[\d.]+):\s+"
    r"(?P<name>[\w<> ]+?):\s*(?P<rest>.*)$")


def lines_of_trace(log):
    inside = False
    for raw in open(log, errors="replace"):
        line = raw.rstrip("\r\n")
        if line.startswith("zfs-test: trace {"):
            inside = True
            continue
        if inside and line.startswith("zfs-test: }"):
            return
        if inside:
            yield line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--frames", type=int, default=4)
    a = ap.parse_args()

    pending = {}  # pid -> (function, time, stack) of an entry not returned
    live = {}  # buffer address -> (time, stack)
    allocs = frees = unmatched = 0
    peak = 0
    peak_at = 0.0
    peak_set = {}
    last_stack_pid = None
    header = []
    timeline = {}  # quarter second -> most held in it
    freed_by = collections.Counter()  # who freed the buffers held at the peak
    for line in lines_of_trace(a.log):
        if line.startswith("#"):
            header.append(line)
            continue
        if line.startswith(" => "):
            if last_stack_pid in pending:
                pending[last_stack_pid][2].append(line[4:].strip())
            continue
        m = EVENT.match(line)
        if not m:
            continue
        pid, ts, name, rest = m["pid"], float(m["ts"]), m["name"].strip(), m["rest"]
        if name == "<stack trace>":
            last_stack_pid = pid
            continue
        last_stack_pid = None
        if name.endswith("_a"):
            pending[pid] = (name[:-2], ts, [])
            last_stack_pid = pid
        elif name.endswith("_r"):
            ent = pending.get(pid)
            if ent is None or ent[0] != name[:-2]:
                continue  # an allocation of another size
            del pending[pid]
            ret = re.search(r"ret=(0x[0-9a-f]+)", rest)
            if not ret:
                continue
            allocs += 1
            live[ret[1]] = (ts, ent[2])
            q = int(ts * 4)
            timeline[q] = max(timeline.get(q, 0), len(live))
            if len(live) > peak:
                peak, peak_at, peak_set = len(live), ts, dict(live)
                freed_by.clear()
        elif name.endswith("_f"):
            buf = re.search(r"buf=(0x[0-9a-f]+)", rest)
            if buf and buf[1] in live:
                if buf[1] in peak_set and peak_set[buf[1]][0] == live[buf[1]][0]:
                    freed_by[re.sub(r"\d+$", "N", m["task"].strip())] += 1
                del live[buf[1]]
                frees += 1
            else:
                unmatched += 1
    for h in header:
        if "entries-in-buffer" in h:
            print(h.lstrip("# "))
    print(f"128 KiB buffers: {allocs} allocated, {frees} of them freed, "
          f"{unmatched} frees of buffers allocated before the trace")
    print(f"most held at once: {peak} at {peak_at:.3f} s; {len(live)} still held at the end")
    print("held at once, by quarter second (most in each):")
    for q in sorted(timeline):
        print(f"  {q / 4:8.2f} s  {timeline[q]:5d}")
    print("of those held at the peak, freed later by:",
          ", ".join(f"{w} {n}" for w, n in freed_by.most_common(6)) or "-")
    callers = collections.Counter()
    for _, stack in peak_set.values():
        # The stack starts in the kprobe machinery and the probed
        # function: keep what called it.
        names = [f.split("+")[0] for f in stack]
        probed = [i for i, f in enumerate(names) if f in ("zio_buf_alloc", "zio_data_buf_alloc")]
        frames = stack[probed[0] + 1:] if probed else stack
        callers[" < ".join(f.split("+")[0] for f in frames[: a.frames])] += 1
    print(f"allocated by, for the {peak} held at that moment:")
    for who, n in callers.most_common(12):
        print(f"  {n:6d}  {who}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
