#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Several make zfs-test runs side by side, one column a run.

Each run's zfs.csv (scripts/zfs-report.py: flavour,metric,value) gives its
phase ratios splkmem / SPL, the grow stalls and emergency objects of both
flavours, the OOM kills and what reclaim asked and got in the shrink and
pressure phases, and the host's load as each boot started and ended.

  scripts/zfs-runs.py [--title T] RUN.csv... > runs.md

A run is named by its file name without .csv.
"""
import argparse
import csv
import os
import sys

PHASES = ["load", "create", "write", "zvol", "shrink", "pressure", "churn", "export",
          "verify", "scrub", "destroy", "unload"]
# Phase ratios judged against this (zfs-report.py's TOLERANCE).
TOLERANCE = 1.03


def read(path):
    figures = {"splkmem": {}, "stock": {}}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            figures.setdefault(row["flavour"], {})[row["metric"]] = float(row["value"])
    return figures


def ratio(run, key):
    a, b = run["splkmem"].get(key), run["stock"].get(key)
    if a is None or not b:
        return None
    return a / b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--title", default="make zfs-test, run after run")
    ap.add_argument("csv", nargs="+")
    args = ap.parse_args()
    names = [os.path.basename(p)[:-4] if p.endswith(".csv") else p for p in args.csv]
    runs = [read(p) for p in args.csv]

    def row(title, cell):
        return f"| {title} | " + " | ".join(cell(r) for r in runs) + " |"

    def num(flavour, key, form="{:.0f}", scale=1.0):
        def cell(r):
            v = r[flavour].get(key)
            return "-" if v is None else form.format(v / scale)
        return cell

    def rat(key):
        def cell(r):
            v = ratio(r, key)
            if v is None:
                return "-"
            return f"**{v:.3f}**" if v > TOLERANCE else f"{v:.3f}"
        return cell

    def pair(key, form="{:.0f}", scale=1.0):
        def cell(r):
            vals = [r[f].get(key) for f in ("splkmem", "stock")]
            return " / ".join("-" if v is None else form.format(v / scale) for v in vals)
        return cell

    out = [f"# {args.title}", "",
           "Ratios are splkmem / SPL (OpenZFS 2.4.4's own spl.ko) in the same run, "
           f"guest seconds under `-icount shift=0`; in bold above {TOLERANCE}. "
           "Pairs are splkmem / SPL. Made by `scripts/zfs-runs.py` from each run's "
           "`zfs.csv`.", "",
           "| | " + " | ".join(names) + " |",
           "|---|" + "---:|" * len(runs)]
    out.append(row("host load (1 min) at the boots' start and end, splkmem; SPL",
                   lambda r: "{:.1f}-{:.1f}; {:.1f}-{:.1f}".format(
                       r["splkmem"].get("host_load_start", float("nan")),
                       r["splkmem"].get("host_load_end", float("nan")),
                       r["stock"].get("host_load_start", float("nan")),
                       r["stock"].get("host_load_end", float("nan")))))
    for p in PHASES:
        out.append(row(f"{p} phase", rat(f"phase_{p}_s")))

    def total(r):
        ts = []
        # A phase neither flavour ran (the churn phase, in runs before it
        # came) is left out of both sums.
        ran = [p for p in PHASES if any(f"phase_{p}_s" in r[f] for f in ("splkmem", "stock"))]
        for f in ("splkmem", "stock"):
            vals = [r[f].get(f"phase_{p}_s") for p in ran]
            ts.append(sum(vals) if None not in vals else None)
        return "-" if None in ts or not ts[1] else f"{ts[0] / ts[1]:.3f}"
    out.append(row("all phases", total))
    out.append(row("churn: slab bytes per byte of live objects after reclaim, all caches, "
                   "splkmem / SPL", pair("frag_after_ratio", "{:.2f}")))
    out.append(row("the same, splkmem's vmalloc-backed magazine objects counted live (as "
                   "SPL's count does)", num("splkmem", "frag_after_ratio_with_magazines",
                                            "{:.2f}")))
    out.append(row("churn: slab MB after reclaim, splkmem / SPL",
                   pair("frag_after_slab_bytes", "{:.1f}", 1e6)))
    out.append(row("churn: live object MB after reclaim, splkmem / SPL",
                   pair("frag_after_live_bytes", "{:.1f}", 1e6)))
    out.append(row("churn: slab bytes per live byte before reclaim, splkmem / SPL",
                   pair("frag_before_ratio", "{:.2f}")))
    out.append(row("grow stalls (dlock), splkmem / SPL", pair("deadlock")))
    out.append(row("emergency objects (high-water mark), splkmem / SPL",
                   pair("emergency_max")))
    out.append(row("emergency objects at once (sampled peak), splkmem / SPL",
                   pair("emergency_alloc_peak")))
    out.append(row("OOM kills in the pressure phase, splkmem / SPL",
                   pair("reclaim_pressure_oom_kill")))
    out.append(row("`drop_caches` in the shrink phase, and s in them, splkmem",
                   lambda r: "{:.0f}, {:.2f} s".format(
                       r["splkmem"].get("shrink_drop_caches", float("nan")),
                       r["splkmem"].get("shrink_drop_caches_s", float("nan")))))
    out.append(row("the same, SPL",
                   lambda r: "{:.0f}, {:.2f} s".format(
                       r["stock"].get("shrink_drop_caches", float("nan")),
                       r["stock"].get("shrink_drop_caches_s", float("nan")))))
    out.append(row("per `drop_caches`: splkmem's shrinker count / scan calls",
                   lambda r: "{:.1f} / {:.1f}".format(
                       r["splkmem"].get("reclaim_per_drop_caches_shrinker_count", float("nan")),
                       r["splkmem"].get("reclaim_per_drop_caches_shrinker_scan", float("nan")))))
    out.append(row("per `drop_caches`: objects splkmem's scans freed",
                   num("splkmem", "reclaim_per_drop_caches_shrinker_freed")))
    out.append(row("per `drop_caches`: the ARC's shrinker scans, splkmem / SPL",
                   pair("reclaim_per_drop_caches_arc_scan_direct", "{:.1f}")))
    out.append(row("pressure: the hog's MiB", num("splkmem", "pressure_hog_mib")))
    out.append(row("pressure: lowest MemFree, MiB, splkmem / SPL",
                   pair("pressure_memfree_min_kib", scale=1024)))
    out.append(row("pressure: ARC given back, MB, splkmem / SPL",
                   pair("pressure_arc_given_bytes", "{:.1f}", 1e6)))
    out.append(row("pressure: caches' slabs given back, MB, splkmem / SPL",
                   pair("pressure_slab_given_bytes", "{:.1f}", 1e6)))
    out.append(row("pressure: splkmem's shrinker count / scan calls, objects freed",
                   lambda r: "{:.0f} / {:.0f}, {:.0f}".format(
                       r["splkmem"].get("reclaim_pressure_shrinker_count", float("nan")),
                       r["splkmem"].get("reclaim_pressure_shrinker_scan", float("nan")),
                       r["splkmem"].get("reclaim_pressure_shrinker_freed", float("nan")))))
    out.append(row("pressure: the ARC's shrinker scans (direct + kswapd), splkmem / SPL",
                   lambda r: " / ".join(
                       "{:.0f}".format(r[f].get("reclaim_pressure_arc_scan_direct", float("nan")) +
                                       r[f].get("reclaim_pressure_arc_scan_kswapd", float("nan")))
                       for f in ("splkmem", "stock"))))
    out.append(row("pressure: pages scanned by kswapd + direct reclaim, splkmem / SPL",
                   lambda r: " / ".join(
                       "{:.0f}".format(r[f].get("reclaim_pressure_pgscan_kswapd", float("nan")) +
                                       r[f].get("reclaim_pressure_pgscan_direct", float("nan")))
                       for f in ("splkmem", "stock"))))
    out.append(row("pressure: direct reclaim stalls, splkmem / SPL",
                   pair("reclaim_pressure_allocstall")))
    out.append("")
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
