#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a QEMU console log of a splkmem test run.

Fails (exit 1) on:
  - a KUnit case that failed or crashed, or a suite of kunit/*.c that did not
    report at all (parsed with the kernel tree's kunit.py, which understands
    nested KTAP);
  - any kernel splat (BUG, WARNING, KASAN, lockdep, sleeping in atomic
    context, Oops, panic, kmemleak, ...) outside the regions a test marks as
    expected with the splkmem-test expect-splat markers (kunit/splkmem_test.h);
  - a job that did not report exit=0.

Prints kunit.py's summary, then one line per problem, then
"N passed, N failed" (KUnit cases).

usage: check-console.py [--kunit-py PATH --suites-from DIR] LOG
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

SPLAT_PATTERNS = [
    r"BUG:",
    r"WARNING:",
    r"KASAN",
    r"UBSAN:",
    r"Oops",
    r"general protection fault",
    r"Kernel panic",
    r"kernel BUG at",
    r"Call Trace:",
    r"possible circular locking",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"lockdep",
    r"sleeping function called from invalid context",
    r"unreferenced object",  # kmemleak
    r"INFO: task .* blocked for more than",
    r"rcu: INFO: .* detected stalls",
    r"list_(add|del) corruption",
]
SPLAT_RE = re.compile("|".join(SPLAT_PATTERNS))
BEGIN = "splkmem-test: expect-splat-begin"
END = "splkmem-test: expect-splat-end"
JOB_START = "splkmem-job: start"


def expected_suites(src_dir):
    names = set()
    for path in sorted(pathlib.Path(src_dir).glob("*.c")):
        text = path.read_text()
        for m in re.finditer(r"struct\s+kunit_suite\s+\w+\s*=\s*\{[^}]*?\.name\s*=\s*\"([^\"]+)\"",
                             text, re.S):
            names.add(m.group(1))
    return names


def find_splats(lines):
    problems = []
    inside = False
    for n, line in enumerate(lines, 1):
        if BEGIN in line:
            if inside:
                problems.append(f"line {n}: nested expect-splat-begin")
            inside = True
            continue
        if END in line:
            if not inside:
                problems.append(f"line {n}: expect-splat-end without begin")
            inside = False
            continue
        if not inside and SPLAT_RE.search(line):
            problems.append(f"line {n}: kernel splat: {line.strip()}")
    if inside:
        problems.append("expect-splat region never closed (test crashed?)")
    return problems


def walk_cases(group, suite=None):
    for case in group.get("test_cases", []):
        yield suite, case
    for sub in group.get("sub_groups", []):
        yield from walk_cases(sub, suite or sub["name"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kunit-py", help="kunit.py of the kernel tree; omit for no KUnit")
    ap.add_argument("--suites-from", help="directory whose *.c name the expected suites")
    ap.add_argument("log")
    args = ap.parse_args()

    text = pathlib.Path(args.log).read_text(errors="backslashreplace")
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if JOB_START in l), None)
    problems = []
    if start is None:
        problems.append("the job never started (boot failed?)")
        start = 0
    job = lines[start:]
    problems += find_splats(job)
    if not any("splkmem-job: exit=0" in l for l in job):
        problems.append("the job did not report exit=0")

    passed = failed = skipped = 0
    seen_suites = set()
    if not args.kunit_py:
        for p in problems:
            print(f"check-console: {p}")
        print(f"console: {0 if problems else 1} passed, {1 if problems else 0} failed")
        return 1 if problems else 0
    with tempfile.TemporaryDirectory() as tmp:
        slice_path = pathlib.Path(tmp) / "console.log"
        slice_path.write_text("\n".join(job) + "\n")
        json_path = pathlib.Path(tmp) / "results.json"
        subprocess.run([sys.executable, args.kunit_py, "parse", f"--json={json_path}",
                        str(slice_path)], check=False)
        if json_path.exists():
            results = json.loads(json_path.read_text())
            for suite, case in walk_cases(results):
                seen_suites.add(suite)
                status = case.get("status")
                if status == "PASS":
                    passed += 1
                elif status == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    problems.append(f"KUnit {suite}.{case['name']}: {status}")
        else:
            problems.append("kunit.py produced no results")

    expected = expected_suites(args.suites_from) if args.suites_from else set()
    for suite in sorted(expected - seen_suites):
        problems.append(f"KUnit suite {suite} did not report")
        failed += 1

    for p in problems:
        print(f"check-console: {p}")
    if skipped:
        print(f"check-console: {skipped} KUnit cases skipped")
    print(f"kunit: {passed} passed, {failed} failed")
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
