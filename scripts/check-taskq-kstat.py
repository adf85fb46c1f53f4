#!/usr/bin/env python3
"""Check splkmem's task queue kstat files against OpenZFS's own source.

usage: check-taskq-kstat.py TARBALL CONSOLE_LOG

CONSOLE_LOG holds the files as a guest printed them, each between
"taskq-kstat-begin PATH" and "taskq-kstat-end" lines (scripts/
openzfs-abi-test.sh prints /proc/spl/kstat/taskq/summary and a queue's
file).  What they must look like is read from the OpenZFS 2.4.4 tarball,
not written here: the field names and their order from spl-taskq.c's
taskq_kstats_template, the summary's header strings and its line format
from spl_taskq_kstat_headers(), and the first line and the named-kstat
line formats from spl-kstat.c.  C's printf formats are applied with
Python's % operator, which means the same for these conversions.
Exit 0 when every file matches, 1 otherwise (each difference printed).
"""
import re
import sys
import tarfile


def source(tar, suffix):
    for m in tar.getmembers():
        if m.name.endswith(suffix):
            return tar.extractfile(m).read().decode()
    sys.exit(f"check-taskq-kstat: no {suffix} in the tarball")


def c_format(fmt):
    """A C format string as Python's % operator takes it."""
    return re.sub(r"%(-?[0-9]*)ll[du]", r"%\1d", fmt).replace("\\n", "")


def expectations(tarball):
    with tarfile.open(tarball) as tar:
        taskq = source(tar, "module/os/linux/spl/spl-taskq.c")
        kstat = source(tar, "module/os/linux/spl/spl-kstat.c")
    template = re.search(r"taskq_kstats_template = \{(.*?)\};", taskq, re.S).group(1)
    fields = re.findall(r'\{\s*"(\w+)",\s*KSTAT_DATA_UINT64\s*\}', template)
    headers = re.search(r"spl_taskq_kstat_headers\(.*?snprintf\(buf, size,(.*?)\);", taskq, re.S).group(1)
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', headers)
    row_fmt = c_format(strings[0])          # "%-20s | %-17s | %-23s\n", three times
    header_rows = [row_fmt % tuple(strings[3 + 3 * i:6 + 3 * i]) for i in range(3)]
    first_fmt = re.search(r'seq_printf\(f, "(%d %d 0x%02x[^"]*)"', kstat).group(1)
    names_fmt = re.search(r'case KSTAT_TYPE_NAMED:\s*seq_printf\(f, "([^"]*)",\s*'
                          r'"name", "type", "data"\)', kstat).group(1)
    named_fmt = re.search(r'kstat_seq_show_named\(.*?seq_printf\(f, "([^"]*)"', kstat, re.S).group(1)
    uint64_fmt = re.search(r'case KSTAT_DATA_UINT64:\s*seq_printf\(f, "([^"]*)"', kstat).group(1)
    data_fmt = re.search(r'spl_taskq_kstat_data\(.*?"%-20s \| %-17s \| %-23s\\n"', taskq, re.S)
    threads_fmt = re.search(r'snprintf\(threads, sizeof \(threads\), "([^"]*)"', taskq).group(1)
    tasks_fmt = re.search(r'snprintf\(tasks, sizeof \(tasks\), "([^"]*)"', taskq).group(1)
    assert len(fields) == 23 and data_fmt, "OpenZFS's spl-taskq.c is not laid out as expected"
    return {
        "fields": fields,
        "header_rows": header_rows,
        "row_fmt": row_fmt,
        "first": re.compile("^" + re.escape(c_format(first_fmt))
                            .replace("%d", "-?[0-9]+").replace("0x%02x", "0x[0-9a-f]{2}") + "$"),
        "names_line": c_format(names_fmt) % ("name", "type", "data"),
        "named_prefix": c_format(named_fmt),
        "uint64": c_format(uint64_fmt),
        "threads": re.compile("^" + re.escape(c_format(threads_fmt)).replace("%3d", r"[ 0-9]{2}[0-9]+") + "$"),
        "tasks": re.compile("^" + re.escape(c_format(tasks_fmt)).replace("%5d", r"[ 0-9]{4}[0-9]+")
                            .replace("%3d", r"[ 0-9]{2}[0-9]+") + "$"),
    }


def files(log):
    """The files between the markers.  The guest's shell prints them with
    echo and cat, so their lines carry no kernel timestamp; a line that
    does is a kernel message the console printed meanwhile (seen: "tsc:
    Refined TSC clocksource calibration" in the middle of a file), not
    the file's."""
    out, cur, name = {}, None, None
    for raw in open(log, errors="replace"):
        raw = raw.rstrip("\r\n")
        line = re.sub(r"^\[[ 0-9.]+\] ", "", raw)
        if line.startswith("taskq-kstat-begin "):
            name, cur = line.split(" ", 1)[1], []
        elif line == "taskq-kstat-end" and cur is not None:
            out[name], cur = cur, None
        elif cur is not None and line == raw:
            cur.append(line)
    return out


def check_summary(lines, e, errs):
    if len(lines) < 5:
        errs.append(f"summary: {len(lines)} lines")
        return
    if not e["first"].match(lines[0]) or lines[0].split()[1:5] != ["0", "0x01", "1", "0"]:
        errs.append(f"summary line 1 (raw, virtual, 1 datum of size 0): {lines[0]!r}")
    for i, want in enumerate(e["header_rows"]):
        if lines[1 + i] != want:
            errs.append(f"summary line {2 + i}: {lines[1 + i]!r}, OpenZFS: {want!r}")
    for line in lines[4:]:
        cols = line.split(" | ")
        if len(cols) != 3 or len(cols[0]) < 20 or not re.match(r"^\S+\.[0-9]+ *$", cols[0]) \
                or not e["threads"].match(cols[1]) or not e["tasks"].match(cols[2]):
            errs.append(f"summary queue line: {line!r}")


def check_named(path, lines, e, errs):
    fields = e["fields"]
    if len(lines) != 2 + len(fields):
        errs.append(f"{path}: {len(lines)} lines, want {2 + len(fields)}")
        return
    first = lines[0].split()
    if not e["first"].match(lines[0]) or first[1:4] != ["1", "0x01", str(len(fields))]:
        errs.append(f"{path} line 1 (named, virtual, {len(fields)} data): {lines[0]!r}")
    if lines[1] != e["names_line"]:
        errs.append(f"{path} line 2: {lines[1]!r}, OpenZFS: {e['names_line']!r}")
    for name, line in zip(fields, lines[2:]):
        prefix = e["named_prefix"] % (name, 4)
        value = line[len(prefix):]
        if not line.startswith(prefix) or not re.fullmatch(r"[0-9]+", value) \
                or e["uint64"] % int(value) != value:
            errs.append(f"{path}: {line!r}, OpenZFS: {prefix!r} and the value")


def main():
    tarball, log = sys.argv[1], sys.argv[2]
    e = expectations(tarball)
    got = files(log)
    errs = []
    summary = [p for p in got if p.endswith("/summary")]
    named = [p for p in got if not p.endswith("/summary")]
    if not summary or not named:
        errs.append(f"the log holds {sorted(got)}: want the summary and a queue's file")
    for p in summary:
        check_summary(got[p], e, errs)
    for p in named:
        check_named(p, got[p], e, errs)
    for err in errs:
        print("check-taskq-kstat:", err)
    print(f"check-taskq-kstat: {len(got)} files against OpenZFS's {len(e['fields'])} fields: "
          + ("FAIL" if errs else "PASS"))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
