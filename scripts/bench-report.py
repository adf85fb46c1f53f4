#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn bench results (CSV) into a report with ratios against splkmem,
the targets of the benchmark issue read off the figures, and a chart.

CSV columns: run,workload,allocator,size,n,metric,value
  run       shipped (wall clock, init_on_alloc=1), init0 (init_on_alloc=0),
            icount (-icount shift=0: one ns per instruction), gate (make
            check's hit-path gate, -icount)
Allocators spl_kvmem and spl_slab are OpenZFS's own SPL (spl.ko), measured
in a boot of their own; --spl-absent REASON marks their columns absent.
Ratios are comparator / splk_kvmem: above 1 means splkmem is faster.

--gate: check make check's gate figures against the targets file (one
line per figure, the verdicts, exit 1 when one is missed).
--before FILE: an earlier run's CSV (bench/results/before-issue9.csv: the
cross-CPU records of the last results before the magazine layer), printed
beside this run's all-CPUs and producer/consumer figures.
"""
import argparse
import collections
import csv
import datetime
import os
import subprocess
import sys
import tempfile

ALLOCATORS = ["splk_kvmem", "spl_kvmem", "splk_kvmem_pg", "spl_kvmem_pg", "splk_slab",
              "spl_slab", "slub", "slub_sheaf", "kmalloc", "kvmalloc", "vmalloc"]
SPL = ("spl_kvmem", "spl_kvmem_pg", "spl_slab")
# The task queue workloads: size is the queue's threads.
TQ_WORKLOADS = ("tq_roundtrip", "tq_throughput")
TQ_ALLOCATORS = ["splk_taskq", "spl_taskq", "workqueue"]
ABSENT = "absent"
# Set from the command line: why SPL's columns are absent ("" = measured),
# in every run or in one (run -> reason), and the targets (bench/targets).
spl_absent = ""
spl_absent_run = {}
TARGETS = {}


def absent(run):
    """Why SPL was not measured in @run, or "" when it was."""
    return spl_absent or spl_absent_run.get(run, "")


def load_targets(path):
    out = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            key, value = line.split("=", 1)
            out[key.strip()] = float(value)
    return out
RUN_TITLES = {
    "shipped": "wall clock, Debian's kernel as shipped (init_on_alloc=1)",
    "init0": "wall clock, booted with init_on_alloc=0",
    "icount": "-icount shift=0 (instruction-ns), single CPU",
    "icount2": "-icount shift=0 -smp 2 (instruction-ns of both CPUs), cross-CPU workloads",
}


def load(path):
    data = {}
    for row in csv.DictReader(open(path)):
        key = (row["run"], row["workload"], row["allocator"], int(row["size"]),
               int(row["n"]), row["metric"])
        data[key] = float(row["value"])
    return data


def fmt(v):
    if v is ABSENT:
        return ABSENT
    if v is None:
        return "-"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def sizes_of(data):
    return sorted({k[3] for k in data if k[1] not in TQ_WORKLOADS})


def tq_get(data, run, workload, alloc, threads, metric):
    """(n, value) of a task queue record, whatever its n, or None."""
    for k, v in data.items():
        if k[:4] == (run, workload, alloc, threads) and k[5] == metric:
            return k[4], v
    return None


def tq_threads(data, run):
    return sorted({k[3] for k in data if k[0] == run and k[1] in TQ_WORKLOADS})


def tq_tables(data, run):
    """The task queue tables of @run (empty when it has no such records)."""
    threads = tq_threads(data, run)
    if not threads:
        return []
    spl_why = absent(run)

    def per_task(n, v):
        return v / n if n else None

    def cell(workload, alloc, t, metric, conv=lambda n, v: v, form=fmt):
        if alloc == "spl_taskq" and spl_why:
            return ABSENT
        got = tq_get(data, run, workload, alloc, t, metric)
        v = conv(*got) if got else None
        return "-" if v is None else form(v)

    def wakeups(workload, alloc, t):
        return cell(workload, alloc, t, "worker_wakeups", per_task, lambda v: f"{v:.2f}")

    out = ["### task queues: dispatch+execute round trip", "",
           "Dispatch one empty task and wait for it (taskq_dispatch + taskq_wait_id; "
           "workqueue: queue_work + flush_work), each round trip timed alone for up to "
           "200 ms, ns: median and 10th percentile (p10) of n. Under TCG the samples "
           "fall into modes (seen: about 10 us, 15 to 80 us, and 4 or 8 ms, one or two "
           "guest ticks at HZ=250, when a wake-up waits for a tick): the median says "
           "which mode dominated, p10 is the fast one. Worker "
           "wake-ups per task: voluntary context switches of the queue's threads / "
           "round trips (1 = a dispatch wakes one worker; the thread count would be a "
           "thundering herd).", "",
           "| threads | " + " | ".join(f"{a} median | {a} p10" for a in TQ_ALLOCATORS)
           + " | n (splk) | splk wake-ups per task | spl wake-ups per task |",
           "|---|" + "---|---|" * len(TQ_ALLOCATORS) + "---|---|---|"]
    for t in threads:
        n = tq_get(data, run, "tq_roundtrip", "splk_taskq", t, "ns_per_task")
        out.append("| " + " | ".join(
            [str(t)] + [cell("tq_roundtrip", a, t, m) for a in TQ_ALLOCATORS
                        for m in ("ns_per_task", "ns_p10")]
            + [str(n[0]) if n else "-"]
            + [wakeups("tq_roundtrip", a, t)
               for a in ("splk_taskq", "spl_taskq")]) + " |")
    if any(tq_get(data, run, "tq_roundtrip", a, t, "ns_p99")
           for a in TQ_ALLOCATORS for t in threads):
        out += ["", "Round trip tail: 99th percentile (p99) and slowest (max) in ns, and "
                "how many of the n round trips took 1 ms or more (a wake-up that waits "
                "for a guest tick takes 4 ms).", "",
                "| threads | " + " | ".join(f"{a} p99 | {a} max | {a} >= 1 ms"
                                          for a in TQ_ALLOCATORS) + " |",
                "|---|" + "---|---|---|" * len(TQ_ALLOCATORS)]
        for t in threads:
            out.append("| " + " | ".join(
                [str(t)] + [cell("tq_roundtrip", a, t, m,
                                 form=(lambda v: f"{v:.0f}") if m == "over_1ms" else fmt)
                            for a in TQ_ALLOCATORS
                            for m in ("ns_p99", "ns_max", "over_1ms")]) + " |")
    ns = sorted({k[4] for k in data if k[0] == run and k[1] == "tq_throughput"
                 and k[5] == "ns_per_task"})
    out += ["", "### task queues: throughput of %s empty tasks" % "/".join(str(x) for x in ns), "",
            "Dispatch N empty tasks with taskq_dispatch(TQ_SLEEP), then taskq_wait "
            "(workqueue: queue_work of N preallocated work items, flush_workqueue); "
            "tasks per second (wall time / N), median of up to 3 rounds (fewer when "
            "the rounds of a queue took over 5 s). Queues: taskq_create(threads, "
            "defclsyspri, minalloc 50, maxalloc INT_MAX, TASKQ_PREPOPULATE); "
            "alloc_workqueue(WQ_UNBOUND, max_active = threads). Ratio above 1: "
            "splkmem is faster.", "",
            "| threads | N | splk_taskq | spl_taskq | workqueue | splk/spl | splk/workqueue "
            "| splk wake-ups per task | spl wake-ups per task |",
            "|---|---|---|---|---|---|---|---|---|"]
    for t in threads:
        tps = {}
        for a in TQ_ALLOCATORS:
            got = tq_get(data, run, "tq_throughput", a, t, "ns_per_task")
            tps[a] = 1e9 / got[1] if got and got[1] else None
        n = tq_get(data, run, "tq_throughput", "splk_taskq", t, "ns_per_task")

        def ratio(other):
            if other == "spl_taskq" and spl_why:
                return ABSENT
            s, o = tps["splk_taskq"], tps[other]
            return f"{s / o:.2f}x" if s and o else "-"

        out.append("| " + " | ".join(
            [str(t), str(n[0]) if n else "-"]
            + [ABSENT if a == "spl_taskq" and spl_why else fmt(tps[a]) for a in TQ_ALLOCATORS]
            + [ratio("spl_taskq"), ratio("workqueue")]
            + [wakeups("tq_throughput", a, t)
               for a in ("splk_taskq", "spl_taskq")]) + " |")
    out += ["", "Not measured under -icount: with one vCPU, queues of several threads "
            "say nothing about concurrency.", ""]
    return out


def tq_targets(data):
    """The task queue target lines (issue 11), from the shipped run."""
    run = "shipped"
    out = []
    for t in tq_threads(data, run):
        s = tq_get(data, run, "tq_throughput", "splk_taskq", t, "ns_per_task")
        if not s:
            continue
        line = (f"- task queue throughput, {t}-thread queue, wall clock: splkmem "
                f"{1e9 / s[1]:.0f} tasks/s")
        if absent(run):
            line += f"; SPL {ABSENT} ({absent(run)}), target (at least SPL's) not checked"
        else:
            p = tq_get(data, run, "tq_throughput", "spl_taskq", t, "ns_per_task")
            if p:
                ok = s[1] <= p[1]
                line += (f" vs SPL {1e9 / p[1]:.0f} (target at least SPL's throughput "
                         f"at every thread count): {'met' if ok else 'MISSED'}")
            else:
                line += "; SPL not measured"
        out.append(line)
    worst = None
    for t in tq_threads(data, run):
        w = tq_get(data, run, "tq_roundtrip", "splk_taskq", t, "worker_wakeups")
        if w and w[0]:
            worst = max(worst or 0, w[1] / w[0])
    if worst is not None:
        out.append(f"- no thundering herd: at most {worst:.2f} worker wake-ups per "
                   f"dispatch+wait round trip at any thread count (target about 1, "
                   f"<= 1.5): {'met' if worst <= 1.5 else 'MISSED'}")
    return out


def table(data, run, workload, metric, n=None, ratios=True):
    sizes = sizes_of(data)
    ns = sorted({k[4] for k in data if k[0] == run and k[1] == workload and k[5] == metric})
    if n is not None:
        ns = [x for x in ns if x == n]
    allocs = [a for a in ALLOCATORS
              if any(k[0] == run and k[1] == workload and k[2] == a for k in data)
              or (absent(run) and a in SPL and
                  any(k[0] == run and k[1] == workload and k[2] == "splk" + a[3:] for k in data))]
    if not ns:
        return []
    lines = []
    head = ["size"] + (["N"] if len(ns) > 1 or n is not None else []) + allocs
    if ratios:
        head += [f"{a}/splk" for a in allocs if a != "splk_kvmem"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for size in sizes:
        for nn in ns:
            vals = {a: data.get((run, workload, a, size, nn, metric)) for a in allocs}
            if all(v is None for v in vals.values()):
                continue
            if absent(run):
                vals.update({a: ABSENT for a in SPL})
            row = [str(size)] + ([str(nn)] if len(head) > 1 and head[1] == "N" else [])
            row += [fmt(vals[a]) for a in allocs]
            if ratios:
                base = vals.get("splk_kvmem")
                for a in allocs:
                    if a == "splk_kvmem":
                        continue
                    v = vals[a]
                    if v is ABSENT:
                        row.append(ABSENT)
                    else:
                        row.append(f"{v / base:.2f}x" if v and base else "-")
            lines.append("| " + " | ".join(row) + " |")
    return lines


def targets(data):
    out = []
    get = data.get
    sizes = sizes_of(data)

    def verdict(ok):
        return "met" if ok else "MISSED"

    out += [f"- {line}" for line in hit_pair_lines(data, "icount")[0]]
    out += [f"- {line}" for line in sheaf_lines(data, "icount")]
    for size in sizes:
        s = get(("shipped", "pair", "splk_kvmem", size, 1, "ns_per_pair"))
        u = get(("shipped", "pair", "slub", size, 1, "ns_per_pair"))
        if s is not None and u is not None:
            out.append(f"- pair at {size} B, wall clock: splkmem {fmt(s)} ns vs SLUB "
                       f"kmem_cache {fmt(u)} ns (target faster): {verdict(s < u)}")
    for size in [x for x in sizes if x >= 65536]:
        s = get(("shipped", "pair", "splk_kvmem", size, 1, "ns_per_pair"))
        vm = get(("shipped", "pair", "vmalloc", size, 1, "ns_per_pair"))
        kv = get(("shipped", "pair", "kvmalloc", size, 1, "ns_per_pair"))
        if s and vm and kv:
            out.append(f"- warm pair at {size} B: {vm / s:.1f}x faster than vmalloc+vfree "
                       f"(target >= 20x): {verdict(vm / s >= 20)}; {kv / s:.1f}x vs "
                       f"kvmalloc+kvfree (target > 1x): {verdict(kv > s)}")
    v = get(("icount", "batch_fresh", "splk_kvmem", 64, 1024, "ns_per_obj"))
    if v is not None:
        out.append(f"- cold path, 1024 objects of 64 B on a fresh cache under -icount: "
                   f"{fmt(v)} instruction-ns per object (target <= 600): {verdict(v <= 600)}")
    for size in [x for x in sizes if x >= 65536]:
        ns = sorted(k[4] for k in data if k[:4] == ("icount", "batch_fresh", "splk_kvmem", size)
                    and k[5] == "ns_per_obj")
        if not ns:
            continue
        n = ns[-1]
        v = get(("icount", "batch_fresh", "splk_kvmem", size, n, "ns_per_obj"))
        vm = get(("icount", "pair", "vmalloc", size, 1, "ns_per_pair"))
        ws = get(("shipped", "batch_fresh", "splk_kvmem", size, n, "ns_per_obj"))
        wv = get(("shipped", "pair", "vmalloc", size, 1, "ns_per_pair"))
        wall = f"; wall clock as shipped {fmt(ws)} vs {fmt(wv)} ns" if ws and wv else ""
        if v and vm:
            out.append(f"- cold path at {size} B (N={n}) under -icount: {fmt(v)} instruction-ns per "
                       f"object vs one vmalloc+vfree {fmt(vm)} (target <=): {verdict(v <= vm)}"
                       f"{wall}")
    for size in sizes:
        b = next((v for k, v in data.items() if k[:4] == ("shipped", "memory", "splk_kvmem", size)
                  and k[5] == "bytes_per_obj"), None)
        if b is not None:
            # The benchmark's caches use the default alignment (8): each
            # object carries one 8-byte tag; the rest of the overhead is the
            # slab header and the page-rounding tail shared by the slab's
            # objects (KUnit cache_slab_layout asserts that tail is smaller
            # than one object).
            tag = ((size + 8 + 7) // 8) * 8 - size
            out.append(f"- slab bytes per live object at {size} B: {fmt(b)}; per-object "
                       f"metadata {tag} B (target <= 32 + alignment): {verdict(tag <= 32)}; "
                       f"header and page-rounding tail shared by the slab: {fmt(b - size - tag)} B "
                       f"per object")
        pg = next((v for k, v in data.items() if k[:4] == ("shipped", "memory", "splk_kvmem_pg",
                                                           size) and k[5] == "bytes_per_obj"), None)
        if pg is not None:
            # SPL's layout for a page-aligned page multiple, 8 a slab: each
            # object padded by a page for its spl_kmem_obj_t, one page of
            # slab header (spl_slab_size()); not measured, spl.ko has no
            # statistics the benchmark can read.
            page = 4096
            spl = size + page + page / 8
            out.append(f"- slab bytes per live object at {size} B, page aligned: {fmt(pg)} "
                       f"(tags in the slab header); SPL's layout takes {spl:.0f} "
                       f"({pg / spl:.3f}x)")
    return out


def get_n(data, run, workload, alloc, size, metric):
    """(n, value) of the record whatever its n, or (None, None)."""
    for k, v in data.items():
        if k[:4] == (run, workload, alloc, size) and k[5] == metric:
            return k[4], v
    return None, None


def human_bytes(b):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= scale:
            return f"{b / scale:.1f} {unit}"
    return f"{b:.0f} B"


RUN_SHORT = {"shipped": "as shipped", "init0": "init_on_alloc=0", "icount": "-icount",
             "icount2": "-icount -smp 2"}
# How a run's cross-CPU figures were timed, for the target lines.
RUN_CLOCK = {"shipped": "wall clock as shipped", "init0": "wall clock with init_on_alloc=0",
             "icount2": "under -icount -smp 2, instruction-ns"}
IDLE_SLACK_MS = 1000


def cache_targets(data, before, before_label):
    """The magazine layer's targets (issue 9): cross-CPU figures against
    SLUB and against the run before it, idle caches giving their memory
    back, warm cycles without slab creations."""
    out = []
    sizes = sizes_of(data)

    def verdict(ok):
        return "met" if ok else "MISSED"

    out.append("- magazine-hit pair with the depot in place: the KMC_KVMEM pair lines "
               "above (under -icount; make check's gate holds them to bench/targets)")
    # Producer/consumer: CPU A allocates, CPU B frees, so every object
    # crosses CPUs through the depot; the target is SLUB's time in the same
    # run, as shipped (SLUB zeroes) and with init_on_alloc=0 (it does not).
    for run in ("icount2", "shipped", "init0"):
        for size in (64, 4096):
            n, u = get_n(data, run, "prodcons", "slub", size, "ns_per_obj")
            if u is None:
                continue
            parts = []
            for alloc, name in (("splk_kvmem", "KMC_KVMEM"), ("splk_slab", "KMC_SLAB")):
                v = data.get((run, "prodcons", alloc, size, n, "ns_per_obj"))
                if v is not None:
                    parts.append(f"{name} {fmt(v)} ({verdict(v <= u)})")
            sv = data.get((run, "prodcons", "spl_kvmem", size, n, "ns_per_obj"))
            spl = (f"; SPL KMC_KVMEM {ABSENT}" if absent(run)
                   else f"; SPL KMC_KVMEM {fmt(sv)}" if sv is not None else "")
            old = before.get((run, "prodcons", "splk_kvmem", size, n, "ns_per_obj"))
            was = f"; KMC_KVMEM before: {fmt(old)}" if old is not None else ""
            out.append(f"- producer/consumer at {size} B, {RUN_CLOCK[run]}"
                       f"{'' if run == 'icount2' else ', ns'} per object, target at most SLUB kmem_cache's {fmt(u)}: "
                       + ", ".join(parts) + spl + was)
    # All CPUs at once: against the same run's figure before the magazine
    # layer.  Under -icount -smp 2 the figures repeat between boots: time
    # against time.  Without that run, wall clock from boots on other days
    # of a shared machine whose load moves every figure (SLUB's too, by 2x
    # and more): time / SLUB's time in the same boot (SLUB's code is the
    # same in both), the tolerance in bench/targets for the noise left.
    tol2 = TARGETS.get("allcpus_icount_over_before_max", 1.0)
    for size in sizes:
        n, u = get_n(data, "icount2", "allcpus", "slub", size, "ns_per_op")
        parts = []
        for alloc, name in (("splk_kvmem", "KMC_KVMEM"), ("splk_slab", "KMC_SLAB")):
            v = data.get(("icount2", "allcpus", alloc, size, n, "ns_per_op"))
            old = before.get(("icount2", "allcpus", alloc, size, n, "ns_per_op"))
            if v is None:
                continue
            if old is None:
                parts.append(f"{name} {fmt(v)} (before: not measured)")
                continue
            parts.append(f"{name} {fmt(v)} vs {fmt(old)} before ({v / old - 1:+.1%}, "
                         f"{verdict(v <= old * tol2)})")
        if parts:
            old_u = before.get(("icount2", "allcpus", "slub", size, n, "ns_per_op"))
            slub = f"; SLUB {fmt(u)} now, {fmt(old_u)} before" if u and old_u else ""
            out.append(f"- all CPUs at {size} B ({n} CPUs), {RUN_CLOCK['icount2']} per "
                       f"alloc+free per CPU (target no worse than before, at most "
                       f"x{tol2:.2f}): " + ", ".join(parts) + slub)
    tol = TARGETS.get("allcpus_over_before_max", 1.0)
    wall = () if any(k[0] == "icount2" for k in data) else ("shipped", "init0")
    for run in wall:
        for size in sizes:
            n, u = get_n(data, run, "allcpus", "slub", size, "ns_per_op")
            old_u = before.get((run, "allcpus", "slub", size, n, "ns_per_op"))
            parts = []
            for alloc, name in (("splk_kvmem", "KMC_KVMEM"), ("splk_slab", "KMC_SLAB")):
                v = data.get((run, "allcpus", alloc, size, n, "ns_per_op"))
                old = before.get((run, "allcpus", alloc, size, n, "ns_per_op"))
                if v is None:
                    continue
                if old is None or not u or not old_u:
                    parts.append(f"{name} {fmt(v)} (before: not measured)")
                    continue
                r, r_old = v / u, old / old_u
                parts.append(f"{name} {fmt(v)} vs {fmt(old)} before, {r:.2f}x SLUB vs "
                             f"{r_old:.2f}x ({verdict(r <= r_old * tol)})")
            if not parts:
                continue
            slub = f"; SLUB {fmt(u)} now, {fmt(old_u)} before" if u and old_u else ""
            out.append(f"- all CPUs at {size} B ({n} CPUs), wall clock {RUN_SHORT[run]}, ns per "
                       f"alloc+free per CPU (target no worse than before: time / SLUB's in the "
                       f"same boot at most x{tol:.2f} the ratio before): "
                       + ", ".join(parts) + slub)
    if wall:
        out.append("- all CPUs: no -icount -smp 2 run, the wall-clock figures above decide")
    else:
        out.append("- all CPUs, wall clock: see each run's table \"this run and before\" (context "
                   "only: the machine's load moves those figures by 2x and more)")
    if not any(k[1] == "allcpus" for k in before):
        out.append(f"- all CPUs: no earlier results to compare with ({before_label or 'no --before'})")
    # Idle: slab bytes right after a burst is freed, then after the cache
    # sat idle; zero is due two reap intervals after the burst.
    for size in sizes:
        n, b = get_n(data, "shipped", "idle", "splk_kvmem", size, "slab_bytes_burst")
        if b is None:
            continue
        mags = data.get(("shipped", "idle", "splk_kvmem", size, n, "mag_objs_burst"))
        idle = data.get(("shipped", "idle", "splk_kvmem", size, n, "slab_bytes_idle"))
        ms = data.get(("shipped", "idle", "splk_kvmem", size, n, "ms_to_zero"))
        iv = data.get(("shipped", "idle", "splk_kvmem", size, n, "reap_interval_ms"))
        if idle is None or iv is None:
            out.append(f"- idle at {size} B: burst of {n} objects freed, slab bytes "
                       f"{human_bytes(b)}; not watched after it")
            continue
        due = 2 * iv
        ok = idle == 0 and ms is not None and ms <= due + IDLE_SLACK_MS
        when = (f"0 B {ms / 1000:.1f} s after the burst" if ms is not None else
                f"still {human_bytes(idle)} {(2.25 * iv + 1000) / 1000:.1f} s after the burst")
        out.append(f"- idle at {size} B: a burst of {n} objects freed leaves {human_bytes(b)} of "
                   f"slabs ({mags:.0f} objects in magazines); idle, {when} "
                   f"(target zero within two reap intervals, {due / 1000:.0f} s, "
                   f"+{IDLE_SLACK_MS / 1000:.0f} s for the update task's delay): {verdict(ok)}")
    # Warm cycles: the timed alloc-N/free-N after an untimed one creates no
    # slab (the magazines and depot hold what the first cycle grew).
    for size in sizes:
        per_run = []
        bad = 0
        ns = []
        for run in ("shipped", "init0", "icount"):
            got = sorted((k[4], v) for k, v in data.items()
                         if k[:4] == (run, "batch_warm", "splk_kvmem", size)
                         and k[5] == "slab_growths")
            if not got:
                continue
            ns = [n for n, _ in got]
            bad += sum(1 for _, v in got if v)
            per_run.append(f"{RUN_SHORT[run]} " + "/".join(f"{v:.0f}" for _, v in got))
        if per_run:
            out.append(f"- warm alloc-N/free-N at {size} B, slab creations in the timed cycle "
                       f"(the second) for N={'/'.join(map(str, ns))}: " + "; ".join(per_run)
                       + f" (target 0): {verdict(not bad)}")
    return out


def idle_table(data, run):
    """The idle workload's figures, one row per size (empty without any)."""
    sizes = [s for s in sizes_of(data)
             if get_n(data, run, "idle", "splk_kvmem", s, "slab_bytes_burst")[1] is not None]
    if not sizes:
        return []
    lines = ["| size | N | slab bytes after the burst | objects in magazines | slab bytes "
             "idle | seconds to zero | reap interval (s) |", "|---|---|---|---|---|---|---|"]
    for size in sizes:
        n, b = get_n(data, run, "idle", "splk_kvmem", size, "slab_bytes_burst")

        def g(metric, n=n, size=size):
            return data.get((run, "idle", "splk_kvmem", size, n, metric))
        ms, iv, idle = g("ms_to_zero"), g("reap_interval_ms"), g("slab_bytes_idle")
        lines.append("| " + " | ".join([
            str(size), str(n), f"{b:.0f}", fmt(g("mag_objs_burst")),
            "-" if idle is None else f"{idle:.0f}",
            "not reached" if ms is None else f"{ms / 1000:.1f}",
            "-" if iv is None else f"{iv / 1000:g}"]) + " |")
    return lines


def before_label_text(args):
    return args.before_label or os.path.basename(args.before)


def before_table(data, before, run):
    """allcpus of @run beside the same run's figures in @before."""
    allocs = ("splk_kvmem", "splk_slab", "slub")
    rows = []
    for size in sizes_of(data):
        n, _ = get_n(data, run, "allcpus", "splk_kvmem", size, "ns_per_op")
        if n is None:
            continue
        cells = []
        for a in allocs:
            v = data.get((run, "allcpus", a, size, n, "ns_per_op"))
            o = before.get((run, "allcpus", a, size, n, "ns_per_op"))
            cells += [fmt(v), fmt(o), f"{v / o:.2f}x" if v and o else "-"]
        rows.append("| " + " | ".join([str(size)] + cells) + " |")
    if not rows or not before:
        return []
    head = "| size | " + " | ".join(f"{a} | {a} before | now/before" for a in allocs) + " |"
    return [head, "|---|" + "---|" * 3 * len(allocs)] + rows


def hit_pair_lines(data, run):
    """The hit-path targets (bench/targets) against the -icount pairs of
    @run, beside OpenZFS SPL's: (lines, number of targets missed)."""
    kv_max = TARGETS["kvmem_pair_max"]
    pg_max = TARGETS.get("kvmem_pg_pair_max")
    over_max = TARGETS["slab_pair_over_slub_max"]
    over_limit = TARGETS.get("slab_pair_over_slub_limit", over_max)
    lines = []
    missed = 0

    def pair(alloc, size):
        if absent(run) and alloc in SPL:
            return None
        return data.get((run, "pair", alloc, size, 1, "ns_per_pair"))

    def spl_note(alloc, size, slub=None):
        if absent(run):
            return f"; SPL {ABSENT} ({absent(run)})"
        v = pair(alloc, size)
        if v is None:
            return "; SPL not measured"
        if slub is None:
            return f"; SPL {fmt(v)}"
        return f"; SPL {fmt(v)} ({v - slub:+.0f} over SLUB)"

    for size in sizes_of(data):
        v = pair("splk_kvmem", size)
        if v is None:
            continue
        ok = v <= kv_max
        missed += not ok
        lines.append(f"KMC_KVMEM pair at {size} B: splkmem {fmt(v)} instruction-ns, "
                     f"target <= {kv_max:.0f}: {'met' if ok else 'MISSED'}"
                     f"{spl_note('spl_kvmem', size)}")
    for size in sizes_of(data):
        v = pair("splk_kvmem_pg", size)
        if v is None or pg_max is None:
            continue
        ok = v <= pg_max
        missed += not ok
        lines.append(f"KMC_KVMEM page-aligned pair at {size} B: splkmem {fmt(v)} "
                     f"instruction-ns, target <= {pg_max:.0f}: {'met' if ok else 'MISSED'}"
                     f"{spl_note('spl_kvmem_pg', size)}")
    for size in sizes_of(data):
        v = pair("splk_slab", size)
        u = pair("slub", size)
        if v is None or u is None:
            continue
        ok = v - u <= over_max
        regressed = v - u > over_limit
        missed += regressed
        limit = "" if over_limit == over_max else (
            f" (gate limit +{over_limit:.0f}: {'EXCEEDED' if regressed else 'held'})")
        lines.append(f"KMC_SLAB pair at {size} B: splkmem {fmt(v)} instruction-ns, SLUB "
                     f"kmem_cache {fmt(u)}, {v - u:+.0f} over SLUB, target <= +{over_max:.0f}: "
                     f"{'met' if ok else 'MISSED'}{limit}{spl_note('spl_slab', size, u)}")
    return lines, missed


def bulk_lines(data, run):
    """The batch calls' per-object cost (workload bulk) beside single calls
    (bulk_single) and SLUB's bulk calls, under -icount: figures, no gate.
    Issue 26's target: splkmem's batch at most SLUB's bulk per object."""
    lines = []

    def get(workload, alloc, size, n):
        return data.get((run, workload, alloc, size, n, "ns_per_obj"))

    sizes = sorted({k[3] for k in data if k[0] == run and k[1] == "bulk"})
    for size in sizes:
        for n in (8, 32, 128):
            slub = get("bulk", "slub", size, n)
            cells = []
            for alloc in ("splk_kvmem", "splk_kvmem_pg", "splk_slab", "slub"):
                b, s1 = get("bulk", alloc, size, n), get("bulk_single", alloc, size, n)
                if b is None and s1 is None:
                    continue
                verdict = ""
                if alloc != "slub" and b is not None and slub is not None:
                    verdict = " (<= SLUB bulk)" if b <= slub else " (> SLUB bulk)"
                cells.append(f"{alloc} {fmt(b)} batch / {fmt(s1)} single{verdict}")
            for alloc in ("spl_kvmem", "spl_slab"):
                s1 = get("bulk_single", alloc, size, n)
                if s1 is not None:
                    cells.append(f"{alloc} {fmt(s1)} single (no batch call)")
            if cells:
                lines.append(f"{size} B, n = {n}: " + "; ".join(cells))
    return lines


def sheaf_lines(data, run):
    """SLUB with sheaves (kernels from 6.18 on) as the anchor of the hit
    pairs of @run: a SLUB cache created with sheaf_capacity (slub_sheaf)
    beside splkmem's pairs and plain SLUB's, with the sheaf capacities
    SLUB gave the two SLUB caches.  Not a gate: the figures of a kernel
    whose SLUB is not the one the targets were set on."""
    lines = []

    def g(alloc, size, metric="ns_per_pair"):
        return data.get((run, "pair", alloc, size, 1, metric))

    for size in sizes_of(data):
        sh = g("slub_sheaf", size)
        if sh is None:
            continue
        cap = g("slub_sheaf", size, "sheaf_capacity")
        cap0 = g("slub", size, "sheaf_capacity")
        parts = []
        for alloc, name in (("splk_kvmem", "KMC_KVMEM magazine hit"),
                            ("splk_kvmem_pg", "KMC_KVMEM page-aligned"),
                            ("splk_slab", "KMC_SLAB"), ("slub", "plain SLUB cache")):
            v = g(alloc, size)
            if v is not None:
                parts.append(f"{name} {fmt(v)} ({v - sh:+.0f})")
        lines.append(f"SLUB sheaf hit pair at {size} B (sheaf capacity "
                     f"{'?' if cap is None else f'{cap:.0f}'}; the plain SLUB cache's: "
                     f"{'?' if cap0 is None else f'{cap0:.0f}'}): {fmt(sh)} instruction-ns; "
                     + ", ".join(parts))
    return lines


def sheaf_missing(data, run, want):
    """What is missing of the sheaf anchor in @run, when the benchmark was
    built for a kernel with sheaf_capacity (@want: the capacity it asks
    for): a slub_sheaf pair at every size and, from SLUB's sysfs, that
    capacity.  An empty list when all is there."""
    out = []
    for size in sizes_of(data):
        if data.get((run, "pair", "slub_sheaf", size, 1, "ns_per_pair")) is None:
            out.append(f"no slub_sheaf pair at {size} B")
        cap = data.get((run, "pair", "slub_sheaf", size, 1, "sheaf_capacity"))
        if cap != want:
            out.append(f"slub_sheaf at {size} B has sheaf capacity {fmt(cap)}, asked for {want:.0f}")
    return out


def gate(data, want_sheaf=None):
    """make check's gate: prints every figure and its target, returns the
    exit status (1 when a target is missed or nothing was measured, or
    when @want_sheaf is set and the sheaf anchor is not all there)."""
    lines, missed = hit_pair_lines(data, "gate")
    print("hit-path gate, -icount shift=0 (instruction-ns, median of 3), targets from "
          "bench/targets: kvmem_pair_max=%.0f, kvmem_pg_pair_max=%.0f, slab_pair_over_slub_max=%.0f"
          % (TARGETS["kvmem_pair_max"], TARGETS.get("kvmem_pg_pair_max", float("nan")),
             TARGETS["slab_pair_over_slub_max"]))
    for line in lines:
        print("  " + line)
    anchor = sheaf_lines(data, "gate")
    if anchor:
        print("SLUB with sheaves, beside (not gated):")
        for line in anchor:
            print("  " + line)
    if not lines:
        print("gate: no figures measured")
        return 1
    bulk = bulk_lines(data, "gate")
    if bulk:
        print("batch calls, instruction-ns per object (figures, not gated):")
        for line in bulk:
            print("  " + line)
    if want_sheaf is not None:
        gaps = sheaf_missing(data, "gate", want_sheaf)
        for gap in gaps:
            print(f"gate: SLUB sheaf anchor: {gap}")
        if gaps:
            return 1
    print(f"gate: {len(lines) - missed} of {len(lines)} figures within their gate"
          + (f", {missed} over it" if missed else ""))
    return 1 if missed else 0


def chart(data, path, kernel):
    sizes = sizes_of(data)
    series = [("icount", "slub", "SLUB kmem_cache, -icount (instructions, deterministic)"),
              ("shipped", "slub", "SLUB kmem_cache (as shipped)"),
              ("init0", "slub", "SLUB kmem_cache (init_on_alloc=0)"),
              ("shipped", "kmalloc", "kmalloc"),
              ("shipped", "kvmalloc", "kvmalloc"),
              ("shipped", "vmalloc", "vmalloc"),
              ("shipped", "splk_slab", "splkmem KMC_SLAB"),
              ("shipped", "spl_kvmem", "OpenZFS SPL KMC_KVMEM"),
              ("shipped", "spl_slab", "OpenZFS SPL KMC_SLAB"),
              ("icount", "spl_kvmem", "OpenZFS SPL KMC_KVMEM, -icount")]
    series = [(r, a, t + f" ({ABSENT})" if a in SPL and absent(r) else t)
              for r, a, t in series]
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "ratios.dat")
        with open(dat, "w") as f:
            for i, size in enumerate(sizes):
                row = [str(i), str(size)]
                for run, alloc, _ in series:
                    base = data.get((run, "pair", "splk_kvmem", size, 1, "ns_per_pair"))
                    v = data.get((run, "pair", alloc, size, 1, "ns_per_pair"))
                    if absent(run) and alloc in SPL:
                        v = None
                    row.append(f"{v / base:.3f}" if v and base else "NaN")
                f.write(" ".join(row) + "\n")
        plots = ", ".join(
            f"'{dat}' using 1:{i + 3}:xtic(2) with linespoints title '{title}'"
            for i, (_, _, title) in enumerate(series))
        script = f"""
set terminal pngcairo size 1000,640 noenhanced
set output '{path}'
set title "alloc+free pair: each allocator's time / splkmem's (KMC_KVMEM), above 1 = splkmem faster\\n{kernel}, QEMU TCG 2 vCPUs, {datetime.date.today()}"
set xlabel 'object size (bytes)'
set ylabel 'ratio (log scale)'
set logscale y
set grid
set key top left Left reverse font ',9'
set yrange [0.1:1e5]
plot {plots}, 1 with lines dashtype 2 lc rgb 'black' title 'splkmem'
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)


# ---- make bench's scaling report (BENCH_MODE=scale) ----
# Records: run scale-<vCPUs>; scale_allcpus and scale_prodcons with n =
# vCPUs, scale_tq with size = threads = vCPUs.
SCALE_WORKLOADS = [
    ("scale_allcpus", "ns_per_op", "all CPUs at once, 16 allocs then 16 frees each, one cache",
     "alloc+free pair", 1),
    ("scale_prodcons", "ns_per_obj", "vCPUs / 2 producer/consumer pairs on one cache",
     "object (its alloc on one CPU, its free on another)", 2),
    ("scale_tq", "ns_per_task", "task queue throughput, one thread per vCPU, empty tasks",
     "task (dispatch, wake-up, run)", 1),
]
SCALE_CACHES = ["splk_kvmem", "splk_slab", "slub", "spl_kvmem", "spl_slab"]
SCALE_QUEUES = ["splk_taskq", "spl_taskq", "workqueue"]
SCALE_TARGET = 1.2  # splkmem at 8 vCPUs over 1 vCPU (issue 26 item 2)
SCALE_NAMES = {"splk_kvmem": "splkmem KMC_KVMEM", "splk_slab": "splkmem KMC_SLAB",
               "slub": "SLUB kmem_cache", "spl_kvmem": "SPL KMC_KVMEM",
               "spl_slab": "SPL KMC_SLAB", "splk_taskq": "splkmem taskq",
               "spl_taskq": "SPL taskq", "workqueue": "Linux workqueue"}


def scale_get(data, workload, metric, alloc, size, cpus, threads=None):
    """The figure of @alloc at @cpus vCPUs (a queue of @threads, default
    one per vCPU), or None."""
    if workload.startswith("scale_tq"):
        for k, v in data.items():
            if (k[:4] == (f"scale-{cpus}", workload, alloc, threads or cpus)
                    and k[5] == metric):
                return v
        return None
    return data.get((f"scale-{cpus}", workload, alloc, size, cpus, metric))


def scale_cpus(data):
    return sorted({int(k[0].split("-")[1]) for k in data if k[0].startswith("scale-")})


def scale_sizes(data, workload):
    if workload == "scale_tq":
        return [0]
    return sorted({k[3] for k in data if k[1] == workload})


def scale_allocs(data, workload):
    pool = SCALE_QUEUES if workload == "scale_tq" else SCALE_CACHES
    return [a for a in pool if any(k[1] == workload and k[2] == a for k in data)]


def scale_base(data, workload, metric, alloc, size, first):
    """(vCPUs, figure) the growth of @alloc is measured from."""
    for cpus in scale_cpus(data):
        if cpus < first:
            continue
        v = scale_get(data, workload, metric, alloc, size, cpus)
        if v:
            return cpus, v
    return None, None


def scale_tables(data, failed):
    cpus_all = scale_cpus(data)
    md = []
    verdicts = []
    for workload, metric, title, op, first in SCALE_WORKLOADS:
        allocs = scale_allocs(data, workload)
        if not allocs:
            continue
        for size in scale_sizes(data, workload):
            head = f"### {title}" + (f", {size} B" if size else "")
            md += [head, "", f"Instruction-ns per {op}, over all vCPUs; "
                   f"in brackets the growth over the first vCPU count measured "
                   f"(from {first} vCPU{'s' if first > 1 else ''}).", ""]
            md.append("| vCPUs | " + " | ".join(SCALE_NAMES[a] for a in allocs) + " |")
            md.append("|---|" + "---|" * len(allocs))
            for cpus in cpus_all:
                if cpus < first:
                    continue  # prodcons: no pair on one CPU
                row = [str(cpus)]
                for a in allocs:
                    v = scale_get(data, workload, metric, a, size, cpus)
                    bc, bv = scale_base(data, workload, metric, a, size, first)
                    if v is None:
                        row.append("-")
                    else:
                        row.append(fmt(v) + (f" ({v / bv:.2f}x)" if bv and cpus != bc else ""))
                md.append("| " + " | ".join(row) + " |")
            md.append("")
            if workload == "scale_tq":
                md += scale_tq_threads(data, allocs, cpus_all)
            if workload == "scale_allcpus":
                md += [f"cpu_overlap (the threads' run times summed over the wall time: "
                       f"1.0 = one after the other, vCPUs = all at once): "
                       + "; ".join(f"{c}: " + ", ".join(
                           f"{a} {fmt(data.get((f'scale-{c}', workload, a, size, c, 'cpu_overlap')))}"
                           for a in allocs) for c in cpus_all if c > 1), ""]
            top = max(cpus_all) if cpus_all else None
            target_cpus = 8 if 8 in cpus_all else top
            for a in ("splk_kvmem", "splk_slab", "splk_taskq"):
                if a not in allocs:
                    continue
                bc, bv = scale_base(data, workload, metric, a, size, first)
                v = scale_get(data, workload, metric, a, size, target_cpus)
                if not bv or v is None or bc == target_cpus:
                    continue
                others = []
                for o in allocs:
                    if o.startswith("splk"):
                        continue
                    obc, obv = scale_base(data, workload, metric, o, size, first)
                    ov = scale_get(data, workload, metric, o, size, target_cpus)
                    if obv and ov is not None:
                        others.append(f"{SCALE_NAMES[o]} {ov / obv:.2f}x")
                ok = v / bv <= SCALE_TARGET
                verdicts.append(
                    f"- {title}" + (f", {size} B" if size else "") +
                    f": {SCALE_NAMES[a]} {v / bv:.2f}x from {bc} to {target_cpus} vCPUs "
                    f"({fmt(bv)} -> {fmt(v)}), target <= {SCALE_TARGET}x: "
                    + ("met" if ok else "MISSED") + ("; " + ", ".join(others) if others else ""))
    # Where the task queue's instructions go: the same queue with a pool
    # of an entry per task (no kmalloc on dispatch), beside the verdict.
    for a in ("splk_taskq", "spl_taskq"):
        bc, bv = scale_base(data, "scale_tq_pool", "ns_per_task", a, 0, 1)
        top = 8 if 8 in cpus_all else (max(cpus_all) if cpus_all else None)
        v = scale_get(data, "scale_tq_pool", "ns_per_task", a, 0, top) if top else None
        if bv and v and bc != top:
            verdicts.append(f"- the same, with a pool of an entry per task: {SCALE_NAMES[a]} "
                            f"{v / bv:.2f}x from {bc} to {top} vCPUs ({fmt(bv)} -> {fmt(v)})")
    if failed:
        verdicts += [f"- not measured: {c} vCPUs, {why}" for c, why in failed]
    return verdicts, md


def scale_tq_threads(data, allocs, cpus_all):
    """Queues of 1 and 8 threads at every vCPU count: what grows with the
    threads and what with the CPUs."""
    md = ["Queues of a fixed size at every vCPU count (instruction-ns per task):", "",
          "| vCPUs | " + " | ".join(f"{SCALE_NAMES[a]}, {t} thread{'s' if t > 1 else ''}"
                                   for t in (1, 8) for a in allocs) + " |",
          "|---|" + "---|" * (2 * len(allocs))]
    for cpus in cpus_all:
        md.append(f"| {cpus} | " + " | ".join(
            fmt(scale_get(data, "scale_tq", "ns_per_task", a, 0, cpus, t))
            for t in (1, 8) for a in allocs) + " |")
    md.append("")
    queues = [a for a in allocs if a != "workqueue"]
    if any(k[1] == "scale_tq_pool" for k in data):
        md += ["The same queues (one thread per vCPU) with a pool of an entry per task "
               "(minalloc 20000, `scale_tq_pool`), so that no dispatch allocates its entry "
               "(instruction-ns per task). With minalloc 50, SPL frees every entry beyond the "
               "50 when its task ends, so a dispatcher that runs ahead of the workers takes "
               "its entries from kmalloc on its CPU and the workers kfree them on theirs; "
               "splkmem keeps a burst's entries pooled until the queue has been idle for a "
               "second, so only its first round allocates:", "",
               "| vCPUs | " + " | ".join(f"{SCALE_NAMES[a]}, pool 50 | {SCALE_NAMES[a]}, "
                                        f"pool 20000" for a in queues) + " |",
               "|---|" + "---|" * (2 * len(queues))]
        for cpus in cpus_all:
            md.append(f"| {cpus} | " + " | ".join(
                f"{fmt(scale_get(data, 'scale_tq', 'ns_per_task', a, 0, cpus))} | "
                f"{fmt(scale_get(data, 'scale_tq_pool', 'ns_per_task', a, 0, cpus))}"
                for a in queues) + " |")
        md.append("")
    # The queues' own counters (their kstat files), per 1000 tasks.
    if not any(k[1] == "scale_tq" and k[5] == "tq_sleeps" for k in data):
        return md

    def per_k(a, cpus, t, metric):
        for k, v in data.items():
            if k[:4] == (f"scale-{cpus}", "scale_tq", a, t) and k[5] == metric and k[4]:
                return f"{v * 1000 / k[4]:.1f}"
        return "-"
    md += ["Worker sleeps / sleeps ended (kstat thread_wakeups) / wake-ups that found "
           "no task, per 1000 tasks (the queue's kstat counters over the timed rounds), "
           "on queues of one thread per vCPU and of 1 and 8 threads (SPL's kstat file "
           "was not found under that name: -):", "",
           "| vCPUs | threads | " + " | ".join(SCALE_NAMES[a] for a in queues) + " |",
           "|---|---|" + "---|" * len(queues)]
    for cpus in cpus_all:
        for t in sorted({cpus, 1, 8}):
            md.append(f"| {cpus} | {t} | " + " | ".join(
                "/".join(per_k(a, cpus, t, m) for m in ("tq_sleeps", "tq_wakeups",
                                                          "tq_wakeups_nowork"))
                for a in queues) + " |")
    return md + [""]


def scale_chart(data, path, kernel):
    """One panel per workload (64 B for the caches): growth over the base."""
    cpus_all = scale_cpus(data)
    panels = []
    with tempfile.TemporaryDirectory() as tmp:
        for workload, metric, title, _, first in SCALE_WORKLOADS:
            allocs = scale_allocs(data, workload)
            size = 0 if workload == "scale_tq" else 64
            if not allocs:
                continue
            dat = os.path.join(tmp, workload + ".dat")
            with open(dat, "w") as f:
                for cpus in cpus_all:
                    row = [str(cpus)]
                    for a in allocs:
                        _, bv = scale_base(data, workload, metric, a, size, first)
                        v = scale_get(data, workload, metric, a, size, cpus)
                        row.append(f"{v / bv:.3f}" if v and bv else "NaN")
                    f.write(" ".join(row) + "\n")
            plots = ", ".join(f"'{dat}' using 1:{i + 2} with linespoints title '{SCALE_NAMES[a]}'"
                              for i, a in enumerate(allocs))
            panels.append(f"set title '{title}" + (f", {size} B" if size else "") + "'\n"
                          f"plot {plots}, {SCALE_TARGET} with lines dashtype 2 lc rgb 'black' "
                          f"title 'target for splkmem ({SCALE_TARGET}x)'\n")
        if not panels:
            return
        script = f"""
set terminal svg size 1100,{360 * len(panels)} noenhanced font 'sans,11'
set output '{path}'
set multiplot layout {len(panels)},1 title "cost per operation over its cost at the fewest vCPUs (1, prodcons 2): flat = scales; {kernel}, QEMU -icount shift=0"
set xlabel 'vCPUs'
set ylabel 'growth (x)'
set logscale x 2
set xrange [{min(cpus_all) * 0.9}:{max(cpus_all) * 1.15}]
set yrange [0.8:*]
set xtics ({", ".join(str(c) for c in cpus_all)})
set grid
set key outside right font ',9'
{"".join(panels)}
unset multiplot
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)


def scale_report(args):
    data = load(args.csv)
    failed = [tuple(x.split("=", 1)) for x in args.scale_failed]
    verdicts, tables = scale_tables(data, failed)
    md = [f"# splkmem scaling with CPUs, {datetime.date.today()}, Debian {args.kernel}", "",
          "Made by `BENCH_MODE=scale scripts/bench.sh` (also the last part of `make bench`). "
          "Each vCPU count is a boot of Debian's stock kernel under QEMU `-icount shift=0 "
          "-smp N`, one with splkmem.ko and one with OpenZFS 2.4.4's spl.ko, the same "
          "benchmark module (mode scale, 3 rounds, the median) built against each; "
          "SLUB is a bare `kmem_cache` in the splkmem boot.", "",
          "**Cost per operation** = guest time of a run / operations done by all vCPUs. "
          "Under `-icount shift=0` QEMU runs the vCPUs in turn on one host thread and the "
          "guest clock advances one nanosecond per instruction of any vCPU, so this is the "
          "instructions one operation costs, all CPUs' work counted (spinning, retries, "
          "depot trips, wake-ups, IPIs): perfect scaling is flat. It shows no cache-line "
          "transfer and no memory-bandwidth cost: TCG has none (docs/benchmark.md).", "",
          "SPL: " + (f"{ABSENT} ({spl_absent})." if spl_absent else "measured."), "",
          "## Targets", ""] + verdicts + ["", "## Figures", ""] + tables
    if args.chart:
        scale_chart(data, args.chart, f"Debian {args.kernel}")
        md += [f"![scaling]({os.path.basename(args.chart)})", ""]
    open(args.markdown, "w").write("\n".join(md))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--markdown")
    ap.add_argument("--chart")
    ap.add_argument("--kernel", default="")
    ap.add_argument("--targets", required=True, help="bench/targets")
    ap.add_argument("--spl-absent", default="",
                    help="why OpenZFS SPL was not measured (empty: it was)")
    ap.add_argument("--spl-absent-run", action="append", default=[],
                    metavar="RUN=REASON", help="SPL not measured in one run")
    ap.add_argument("--gate", action="store_true")
    ap.add_argument("--scale", action="store_true",
                    help="the scaling report of BENCH_MODE=scale (scaling.md)")
    ap.add_argument("--scale-failed", action="append", default=[], metavar="CPUS=WHY",
                    help="with --scale: a boot that failed")
    ap.add_argument("--want-sheaf", type=float,
                    help="the kernel has sheaf_capacity: the gate also requires the "
                    "slub_sheaf pairs, with this sheaf capacity")
    ap.add_argument("--before", help="an earlier run's CSV, for the all-CPUs target")
    ap.add_argument("--before-label", default="", help="what --before is")
    args = ap.parse_args()
    global spl_absent
    spl_absent = args.spl_absent
    for item in args.spl_absent_run:
        run, reason = item.split("=", 1)
        spl_absent_run[run] = reason
    TARGETS.update(load_targets(args.targets))
    data = load(args.csv)
    if args.scale:
        return scale_report(args)
    if args.gate:
        sys.exit(gate(data, args.want_sheaf))

    md = [f"# splkmem benchmark, {datetime.date.today()}, Debian {args.kernel}", "",
          "Medians over rounds; ratios are comparator / splkmem (KMC_KVMEM cache), "
          "above 1 means splkmem is faster. Wall-clock figures come from QEMU TCG on "
          "a noisy 2-core machine: compare within a run, not across machines.",
          "",
          "spl_kvmem and spl_slab are OpenZFS 2.4.4's own SPL (spl.ko built from "
          "the release), called the same way by the same benchmark built against it, in a "
          "boot of its own per run, as is its task queue (spl_taskq); slab growths and the vmalloc cache's memory figure "
          "read splkmem's statistics and are not available for it."
          + (f" SPL: {ABSENT} in this run ({spl_absent})." if spl_absent else "")
          + "".join(f" SPL: {ABSENT} in the {r} run ({why})." for r, why in
                    sorted(spl_absent_run.items())), ""]
    before = load(args.before) if args.before and os.path.exists(args.before) else {}
    md += ["## Targets", ""] + targets(data) + tq_targets(data) + [""]
    md += ["### Magazine layer (issue 9)", "",
           "Cross-CPU figures in wall clock under TCG depend on how QEMU schedules its vCPU "
           "threads on a shared machine as much as on the allocator: "
           + ("the -icount -smp 2 run, whose figures repeat from boot to boot, decides; the "
              "wall-clock lines are context, compared within their run. "
              if any(k[0] == "icount2" for k in data) else
              "this make bench has no -icount -smp 2 run (BENCH_ICOUNT2=1, where QEMU's "
              "TCG crashes the guest, scripts/bench.sh), so the wall-clock lines decide, and "
              "SLUB's own figures say how much the machine's load moved them. ")
           + "allcpus allocates 16 objects per CPU at a time, which a CPU's own "
           "magazines hold at every size but 1 MiB (magazines of 4 rounds there): it "
           "measures the per-CPU layer and, at 1 MiB, the depot; prodcons passes every "
           "object to the other CPU, through the depot. \"Before\" is "
           + (before_label_text(args) if before else "not available") + ".", ""]
    md += cache_targets(data, before, args.before_label) + [""]
    for run in ["shipped", "init0", "icount", "icount2"]:
        if not any(k[0] == run for k in data):
            continue
        md += [f"## {RUN_TITLES[run]}", ""]
        for workload, metric, title in [
                ("pair", "ns_per_pair", "alloc+free pair, one CPU (ns per pair)"),
                ("batch_fresh", "ns_per_obj", "alloc N then free N, fresh cache (ns per object)"),
                ("batch_warm", "ns_per_obj", "alloc N then free N, warm cache (ns per object)"),
                ("prodcons", "ns_per_obj", "producer CPU 0, consumer CPU 1 (ns per object)"),
                ("allcpus", "ns_per_op", "all CPUs at once (ns per alloc+free per CPU)")]:
            t = table(data, run, workload, metric)
            if t:
                md += [f"### {title}", ""] + t + [""]
        g = table(data, run, "batch_fresh", "slab_growths", ratios=False)
        if g:
            md += ["### slab growths during alloc N on a fresh cache", ""] + g + [""]
        g = table(data, run, "batch_warm", "slab_growths", ratios=False)
        if g:
            md += ["### slab growths during the second alloc N on a warm cache", ""] + g + [""]
        ag = before_table(data, before, run)
        if ag:
            md += ["### all CPUs at once, this run and before (ns per alloc+free per CPU)",
                   ""] + ag + [""]
        it = idle_table(data, run)
        if it:
            md += ["### idle: a burst of N allocs then N frees, then no use (KMC_KVMEM)", "",
                   "Slab bytes are slab_total * slab_size; the wait is shared by every size "
                   "and lasts until each cache's slabs are gone or 2.25 reap intervals + 1 s "
                   "after its burst.", ""] + it + [""]
        m = table(data, run, "memory", "bytes_per_obj", ratios=False)
        if m:
            md += ["### slab bytes per live object at steady state", ""] + m + [""]
        md += tq_tables(data, run)
    if args.chart:
        chart(data, args.chart, f"Debian {args.kernel}")
        md += [f"![ratios]({os.path.basename(args.chart)})", ""]
    open(args.markdown, "w").write("\n".join(md))


if __name__ == "__main__":
    main()
