#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make zfs-test's report: OpenZFS on splkmem beside OpenZFS as released.

Reads the QEMU console logs of scripts/zfs-workload.sh, one per flavour
(--log splkmem=PATH --log stock=PATH), and writes
  --csv        flavour,metric,value (phase_<name>_s, slab_peak_bytes, ...)
  --markdown   the side-by-side table, ratios splkmem / stock, the issue's
               targets (no phase slower, less slab memory at peak: each cache's
               slab max, summed)
  --peak-dir   zfs-slab-peak-<flavour>.txt: /proc/spl/kmem/slab at peak
A flavour whose log lacks a figure shows "-" there.
"""
import argparse
import csv
import datetime
import re

PHASES = ["load", "create", "write", "zvol", "shrink", "pressure", "export", "verify",
          "scrub", "destroy", "unload"]
# The reclaim counters zfs-workload.sh prints (reclaim_counts), when its log
# does not name them itself.
RECLAIM_KEYS = ["shrinker_count", "shrinker_scan", "shrinker_freed", "shrinker_busy",
                "arc_scan_direct", "arc_scan_kswapd", "pgscan_kswapd", "pgscan_direct",
                "pgsteal", "allocstall", "slabs_scanned", "oom_kill"]
# The pressure phase's line: the hog's MiB, then the ARC's and the caches'
# slab bytes at the start, lowest while the hog ran and at the end, and
# the lowest MemFree (KiB).
PRESSURE_KEYS = ["hog_mib", "arc_start_bytes", "arc_min_bytes", "arc_end_bytes",
                 "slab_start_bytes", "slab_min_bytes", "slab_end_bytes", "memfree_min_kib",
                 "memfree_start_kib"]
TITLES = {"splkmem": "splkmem", "stock": "SPL (as released)"}
# Under -icount the phases that only compute (write, zvol, verify) repeat
# within 0.5 % between runs, those that wait on timers (shrink's sleeps,
# scrub, destroy, txg syncs) within about 5 % (measured, same flavour): a
# ratio up to this counts as "not slower".
TOLERANCE = 1.03
# Phases this short (s) are mostly waits for a txg to sync or a timer:
# they vary by up to 30 % between runs of one flavour, and are not judged.
SHORT = 2.0
# Demand (each cache's peak of objects out, summed) this close between the
# flavours makes their slab peaks comparable; outside, the report says not.
DEMAND_ALIKE = (0.8, 1.25)


def parse(path):
    text = open(path, errors="backslashreplace").read()
    figures = {}
    for m in re.finditer(r"zfs-test: phase,(\w+),([0-9.]+)", text):
        figures[f"phase_{m.group(1)}_s"] = float(m.group(2))
    for m in re.finditer(r"zfs-test: (peak|end|mean),(\w+),([0-9.]+)", text):
        key = {("peak", "slab_bytes"): "slab_peak_bytes",
               ("peak", "slab_vmalloc_bytes"): "slab_vmalloc_peak_bytes",
               ("peak", "emergency_alloc"): "emergency_alloc_peak",
               ("peak", "at"): "peak_at_s",
               ("mean", "slab_bytes"): "slab_mean_bytes",
               ("mean", "samples"): "slab_samples"}.get(m.group(1, 2), m.group(2))
        figures[key] = float(m.group(3))
    for m in re.finditer(r"zfs-test: arc,(\w+),(\d+),(\d+),(\d+)", text):
        for key, v in zip(("arc_overhead_bytes", "dbuf_cache_bytes", "dbuf_cache_max_bytes"),
                          m.groups()[1:]):
            figures[f"mem_{m.group(1)}_{key}"] = float(v)
    m = re.search(r"zfs-test: drop_caches,(\d+),([0-9.]+)", text)
    if m:
        figures["shrink_drop_caches"] = float(m.group(1))
        figures["shrink_drop_caches_s"] = float(m.group(2))
    m = re.search(r"zfs-test: reclaim,keys,([\w,]+)", text)
    keys = m.group(1).split(",") if m else RECLAIM_KEYS
    for m in re.finditer(r"zfs-test: reclaim,(\w+),(-?[\d,]+)", text):
        if m.group(1) == "keys":
            continue
        for key, v in zip(keys, m.group(2).split(",")):
            figures[f"reclaim_{m.group(1)}_{key}"] = float(v)
    m = re.search(r"zfs-test: pressure,([\d,]+)", text)
    if m:
        for key, v in zip(PRESSURE_KEYS, m.group(1).split(",")):
            figures[f"pressure_{key}"] = float(v)
        for what in ("arc", "slab"):
            figures[f"pressure_{what}_given_bytes"] = (figures[f"pressure_{what}_start_bytes"] -
                                                       figures[f"pressure_{what}_min_bytes"])
    if figures.get("shrink_drop_caches"):
        for key in keys:
            v = figures.get(f"reclaim_drop_caches_{key}")
            if v is not None:
                figures[f"reclaim_per_drop_caches_{key}"] = v / figures["shrink_drop_caches"]
    for m in re.finditer(r"zfs-test: rmmod (\w+): ([0-9.]+) s", text):
        figures[f"rmmod_{m.group(1)}_s"] = float(m.group(2))
    for m in re.finditer(r"zfs-test: mem,(\w+),(\d+),(\d+),(\d+),(\d+)(?:,(\d+))?", text):
        for key, v in zip(("slab_bytes", "obj_bytes", "slab_vmalloc_bytes", "arc_bytes",
                           "empty_slab_bytes"),
                          m.groups()[1:]):
            if v is not None:
                figures[f"mem_{m.group(1)}_{key}"] = float(v)
    table = re.search(r"zfs-test: /proc/spl/kmem/slab at peak \(\w+\) \{\n(.*?)zfs-test: \}",
                      text, re.S)
    tq = re.search(r"zfs-test: task queues at the slab peak \(\w+\) \{\n(.*?)zfs-test: \}",
                   text, re.S)
    return figures, (table.group(1) if table else "") + (
        "\ntask queues at the same moment:\n" + tq.group(1) if tq else "")


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "s":
        return f"{v:.2f}"
    if unit == "MB":
        return f"{v / 1e6:.1f}"
    if unit == "x":
        return f"{v:.3f}"
    if unit == "f":
        return f"{v:.2f}"
    return f"{v:.0f}"


def reclaim_table(a, b, fa, fb):
    """Reclaim's calls per drop_caches and under the pressure phase."""
    if not any(k.startswith(("reclaim_", "pressure_")) for f in (fa, fb) for k in f):
        return []
    rows = [
        ("pressure_memfree_start_kib", "pressure: MemFree as the hog started, MiB", "MiBk"),
        ("pressure_hog_mib", "pressure: anonymous memory the hog made resident, MiB", ""),
        ("pressure_arc_start_bytes", "pressure: ARC as the hog started, MB", "MB"),
        ("pressure_arc_min_bytes", "pressure: ARC at its lowest while the hog ran, MB", "MB"),
        ("pressure_arc_given_bytes", "pressure: **ARC given back** (start - lowest), MB", "MB"),
        ("pressure_arc_end_bytes", "pressure: ARC as the phase ended, MB", "MB"),
        ("pressure_slab_start_bytes", "pressure: the caches' own slabs as the hog started, MB",
         "MB"),
        ("pressure_slab_min_bytes", "pressure: the same at their lowest while the hog ran, MB",
         "MB"),
        ("pressure_slab_given_bytes", "pressure: **caches' slabs given back** (start - lowest), "
         "MB", "MB"),
        ("pressure_memfree_min_kib", "pressure: lowest MemFree, MiB", "MiBk"),
    ]
    per = [
        ("shrinker_count", "splkmem's shrinker: count calls"),
        ("shrinker_scan", "splkmem's shrinker: scan calls"),
        ("shrinker_freed", "splkmem's shrinker: objects its scans freed"),
        ("shrinker_busy", "splkmem's shrinker: calls that found the registry busy"),
        ("arc_scan_direct", "the ARC's shrinker: scans from direct reclaim"),
        ("arc_scan_kswapd", "the ARC's shrinker: scans from kswapd"),
        ("pgscan_kswapd", "kernel: pages scanned by kswapd"),
        ("pgscan_direct", "kernel: pages scanned by direct reclaim"),
        ("pgsteal", "kernel: pages reclaimed"),
        ("allocstall", "kernel: direct reclaim stalls (allocstall)"),
        ("slabs_scanned", "kernel: objects the shrinkers were asked to scan"),
        ("oom_kill", "kernel: OOM kills"),
    ]
    # Per drop_caches only what it calls: it scans no page (the page cache
    # is dropped apart), stalls nothing and kills nothing.
    for key, title in per[:5] + per[10:11]:
        rows.append((f"reclaim_per_drop_caches_{key}", f"per `drop_caches` (shrink phase): "
                     f"{title}", "f"))
    for key, title in per:
        rows.append((f"reclaim_pressure_{key}", f"pressure phase: {title}", ""))

    def cell(f, k, unit):
        v = f.get(k)
        if v is None:
            return "-"
        if unit == "MiBk":
            return f"{v / 1024:.0f}"
        if unit == "f":
            return f"{v:.1f}"
        return fmt(v, unit)

    lines = [
        "",
        "Reclaim: what the kernel asked of the shrinkers and what the ARC and the caches "
        "gave back. SPL 2.4.4 registers no shrinker for its object caches (only the "
        "ARC has one), so its splkmem-shrinker rows are 0: `drop_caches` and memory "
        "pressure never reach SPL's caches. Counters are differences over each "
        "`echo 3 > drop_caches` of the shrink phase (summed, divided by their number) "
        "and over the whole pressure phase.",
        "",
        f"| reclaim | {TITLES[a]} | {TITLES[b]} |",
        "|---|---:|---:|",
    ]
    for k, title, unit in rows:
        lines.append(f"| {title} | {cell(fa, k, unit)} | {cell(fb, k, unit)} |")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", action="append", required=True, help="FLAVOUR=PATH")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--markdown", required=True)
    ap.add_argument("--peak-dir")
    ap.add_argument("--title", default="OpenZFS 2.4.4 on splkmem, beside OpenZFS as released")
    ap.add_argument("--target", default="make zfs-test", help="the make target that ran")
    ap.add_argument("--checks-only", help="instead of the targets: what the run checks")
    ap.add_argument("--host-load", action="append", default=[],
                    help="FLAVOUR=START END: the host's 1-minute load average as the boot "
                         "started and ended")
    ap.add_argument("--retried", action="append", default=[],
                    help="a boot run again after the known guest double fault")
    args = ap.parse_args()

    runs = {}
    for spec in args.log:
        flavour, path = spec.split("=", 1)
        try:
            runs[flavour] = parse(path)
        except OSError:
            runs[flavour] = ({}, "")
    for spec in args.host_load:
        flavour, loads = spec.split("=", 1)
        if flavour in runs:
            start, end = (float(v) for v in loads.split())
            runs[flavour][0]["host_load_start"] = start
            runs[flavour][0]["host_load_end"] = end
    with open(args.csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["flavour", "metric", "value"])
        for flavour, (figures, _) in runs.items():
            for k, v in figures.items():
                w.writerow([flavour, k, v])
    if args.peak_dir:
        for flavour, (_, table) in runs.items():
            open(f"{args.peak_dir}/zfs-slab-peak-{flavour}.txt", "w").write(table)

    a, b = "splkmem", "stock"
    fa = runs.get(a, ({}, ""))[0]
    fb = runs.get(b, ({}, ""))[0]
    icount = "icount" in args.mode

    def ratio(k):
        if fa.get(k) is None or not fb.get(k):
            return None
        return fa[k] / fb[k]

    lines = [
        f"# {args.title}",
        "",
        f"`{args.target}`, {datetime.date.today()}, Debian {args.kernel}, QEMU "
        f"{args.mode}, 2 vCPUs, 3 GiB; data scale {args.scale} %. "
        + ("The same workload (scripts/zfs-workload.sh) on both: splkmem serves every "
           "`spl_kmem_cache_*` and `taskq_*` call of spl.ko and zfs.ko, or SPL's own cache "
           "and task queue do." if len(runs) > 1 else
           f"The workload of scripts/zfs-workload.sh, the {', '.join(runs)} flavour only."),
        "",
        "Phase times are guest seconds"
        + (" (`-icount shift=0`: 10^9 instructions; computing phases repeat within "
           "0.5 % between runs, phases that wait on timers within about 5 %)."
           if icount else " (TCG wall clock: they vary by +-20 % between runs)."),
        "",
        f"| phase | {TITLES[a]} (s) | {TITLES[b]} (s) | {a} / SPL |",
        "|---|---:|---:|---:|",
    ]
    slower = []
    short = []
    for p in PHASES:
        k = f"phase_{p}_s"
        r = ratio(k)
        if r is not None and min(fa[k], fb[k]) < SHORT:
            short.append(p)
        elif r is not None and r > TOLERANCE:
            slower.append(f"{p} ({r:.3f})")
        lines.append(f"| {p} | {fmt(fa.get(k), 's')} | {fmt(fb.get(k), 's')} | "
                     f"{'-' if r is None else f'{r:.3f}'} |")
    tot = {}
    for name, fig in ((a, fa), (b, fb)):
        vals = [fig.get(f"phase_{p}_s") for p in PHASES]
        tot[name] = sum(vals) if all(v is not None for v in vals) else None
    tr = tot[a] / tot[b] if tot[a] is not None and tot[b] else None
    lines.append(f"| **all** | {fmt(tot[a], 's')} | {fmt(tot[b], 's')} | "
                 f"{'-' if tr is None else f'{tr:.3f}'} |")
    lines += [
        "",
        f"| at peak and at the end | {TITLES[a]} | {TITLES[b]} | {a} / SPL |",
        "|---|---:|---:|---:|",
    ]
    rows = [
        ("slab_peak_bytes", "peak memory in the caches' own slabs, MB "
         "(`/proc/spl/kmem/slab` size column, summed)", "MB"),
        ("slab_mean_bytes", "mean of the same over the run, MB (sampled from create "
         "to destroy)", "MB"),
        ("slab_samples", "samples (4 a second)", ""),
        ("slab_max_bytes", "each cache's own peak of slabs in use (slab max x slab "
         "size), summed, MB: no sampling", "MB"),
        ("obj_max_bytes", "each cache's own peak of objects out of its slabs (object max "
         "x object size), summed, MB: ZFS's demand, with what magazines held", "MB"),
        ("slab_vmalloc_peak_bytes", "peak Slab + VmallocUsed of `/proc/meminfo`, MB", "MB"),
        ("emergency_alloc_peak", "emergency objects allocated at once, peak", ""),
        ("emergency_max", "emergency objects, high-water mark summed over caches", ""),
        ("deadlock", "deadlocks detected (dlock column, summed)", ""),
        ("caches", "caches at the end, before zfs.ko is unloaded", ""),
        ("host_load_start", "the host's 1-minute load average as the boot started "
         "(a shared machine)", "f"),
        ("host_load_end", "the same as it ended", "f"),
        ("shrink_drop_caches", "`drop_caches` done during the shrink phase's I/O", ""),
        ("shrink_drop_caches_s", "time in them, s", "s"),
    ]
    for fig in (fa, fb):
        if fig.get("slab_max_bytes") and fig.get("obj_max_bytes"):
            fig["slab_per_obj_at_peak"] = fig["slab_max_bytes"] / fig["obj_max_bytes"]
    rows.insert(5, ("slab_per_obj_at_peak", "the first over the second: slab bytes per byte "
                    "of objects at the peaks, whatever the demand", "x"))
    for k, title, unit in rows:
        r = None if k.startswith("host_") else ratio(k)
        lines.append(f"| {title} | {fmt(fa.get(k), unit)} | {fmt(fb.get(k), unit)} | "
                     f"{'-' if r is None else f'{r:.3f}'} |")
    lines += reclaim_table(a, b, fa, fb)
    lines += [
        "",
        "Memory as each phase ends, MB: the caches' own slabs (slab), those of "
        "them with no object out (empty), the objects allocated from them (obj), "
        "and the ARC.",
        "",
        f"| phase | slab, {a} | slab, SPL | empty, {a} | empty, SPL | obj, {a} | obj, SPL "
        f"| ARC, {a} | ARC, SPL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in PHASES:
        if p == "unload":
            continue
        cells = []
        for key in ("slab_bytes", "empty_slab_bytes", "obj_bytes", "arc_bytes"):
            for fig in (fa, fb):
                cells.append(fmt(fig.get(f"mem_{p}_{key}"), "MB"))
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    if args.checks_only:
        lines += ["", args.checks_only, ""]
        open(args.markdown, "w").write("\n".join(lines))
        return
    lines += ["", "Targets (issue 21):", ""]
    if not fa or not fb:
        lines.append("- not judged: a flavour did not run")
    else:
        for p in ("shrink", "pressure"):
            r = ratio(f"phase_{p}_s")
            lines.append(f"- {p} phase at most {TOLERANCE}x SPL's: " +
                         ("not measured" if r is None else
                          ("**met**" if r <= TOLERANCE else "**missed**") + f" ({r:.3f})"))
        stalls = [f"{TITLES[n]} {fmt(f.get('deadlock'), '')} and "
                  f"{fmt(f.get('emergency_max'), '')}" for n, f in ((a, fa), (b, fb))]
        got = [f.get(k) for f in (fa, fb) for k in ("deadlock", "emergency_max")]
        lines.append("- no grow stall and no emergency object: " +
                     ("not measured" if None in got else
                      "**met**" if not any(got) else "**missed**") + f" ({'; '.join(stalls)})")
        ooms = [f.get("reclaim_pressure_oom_kill") for f in (fa, fb)]
        lines.append("- no OOM kill under memory pressure: " +
                     ("**met**" if ooms == [0, 0] else
                      "not measured" if None in ooms else "**missed**") +
                     " (the workload fails on any)")
    lines += ["", "Targets (issue 12):", ""]
    if not fa or not fb:
        lines.append("- not judged: a flavour did not run")
    elif not icount:
        lines.append("- not judged: phase times under plain TCG are too noisy")
    else:
        lines.append("- no phase slower than with SPL's own cache (ratio at most "
                     f"{TOLERANCE}): " + ("**met**" if not slower else
                                              "**missed**: " + ", ".join(slower)) +
                     (f" (not judged, shorter than {SHORT:.0f} s: " + ", ".join(short) + ")"
                      if short else ""))
    # Judged on the sum of each cache's own peak, which no sampler can
    # miss: a 4 Hz sample catches ZFS's quarter-second bursts in one run
    # and not in the next, in either flavour.
    r = ratio("slab_max_bytes")
    if r is not None:
        others = [f"{name} {ratio(k):.3f}" for k, name in
                  (("slab_peak_bytes", "sampled peak"), ("slab_mean_bytes", "mean over the run"))
                  if ratio(k) is not None]
        lines.append("- less slab memory at peak than SPL (each cache's peak, summed): " +
                     ("**met**" if r < 1 else "**missed**") + f" ({r:.3f}" +
                     "".join(f"; {o}" for o in others) + ")")
        # The peak is mostly ZFS's own demand, and that demand is not the
        # same in every run: the verify phase's zvol read piles up to ~860
        # copies of one 128 KiB indirect block on prefetch callbacks, or
        # far fewer, by timing (bench/results/zfs-trace-verify.md).
        d = ratio("obj_max_bytes")
        if d is not None and not DEMAND_ALIKE[0] <= d <= DEMAND_ALIKE[1]:
            lines.append(f"  - not like for like: ZFS's demand at peak differed ({d:.3f}, "
                         "objects out of the slabs, summed): a burst came in one run and "
                         "not the other; the figure compares different workloads")
    if args.retried:
        lines += ["", "Runs:", ""]
    for r in args.retried:
        lines.append(f"- run again after a guest crash in the kernel's own code ({r}); "
                     "the figures are the second boot's")
    lines.append("")
    open(args.markdown, "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
