#!/usr/bin/env python3
"""Validates cgoguard JSON reports (log_format=json) in a log file.

Every line that starts with '{' must be exactly one JSON object with the
contract's keys; lines that are not JSON must not look like a text report.
Prints one problem per line and exits 1 if there is any."""
import argparse
import json
import re
import sys

HEX = re.compile(r"^0x[0-9a-fA-F]+$")
CLASSES = {"interior", "stack", "global", "readonly", "go", "unknown"}
FRAME_KEYS = ("pc", "function", "offset", "module", "module_offset")


def is_hexish(v):
    return (isinstance(v, str) and HEX.match(v) is not None) or (
        isinstance(v, int) and not isinstance(v, bool) and v >= 0)


def check_stack(where, stack, problems, nonempty=True):
    if not isinstance(stack, list):
        problems.append(f"{where}: stack is not an array: {stack!r:.80}")
        return
    if nonempty and not stack:
        problems.append(f"{where}: stack is empty")
    for i, fr in enumerate(stack):
        if not isinstance(fr, dict):
            problems.append(f"{where}: frame {i} is not an object")
            continue
        for k in FRAME_KEYS:
            if k not in fr:
                problems.append(f"{where}: frame {i} lacks key {k!r}")
        if "pc" in fr and not is_hexish(fr["pc"]):
            problems.append(f"{where}: frame {i} pc {fr['pc']!r} is not an address")
        if "module" in fr and not (isinstance(fr["module"], str) or fr["module"] is None):
            problems.append(f"{where}: frame {i} module {fr['module']!r} is not a string")
        if "module_offset" in fr and not (is_hexish(fr["module_offset"]) or fr["module_offset"] is None):
            problems.append(f"{where}: frame {i} module_offset {fr['module_offset']!r} is not an offset")


def check_site(where, site, problems, required):
    if site is None:
        if required:
            problems.append(f"{where} is null")
        return
    if not isinstance(site, dict):
        problems.append(f"{where} is neither null nor an object: {site!r:.80}")
        return
    if "stack" in site:
        check_stack(where, site["stack"], problems)
    elif required:
        problems.append(f"{where} has no stack")


ACCESS_KINDS = {"heap-overread", "heap-overflow", "use-after-free", "readonly-write",
                "null-pointer", "stack-buffer-overflow"}


def check_access(w, r, a, problems):
    """The keys of a bad-access report and the expected values asked for."""
    for k in ("function", "access", "access_size", "argument"):
        if k not in r:
            problems.append(f"{w}: missing key {k!r}")
    if "access" in r and r["access"] not in ("read", "write"):
        problems.append(f"{w}: access {r['access']!r} is neither 'read' nor 'write'")
    asz = r.get("access_size")
    if "access_size" in r and not (asz is None or (isinstance(asz, int) and not isinstance(asz, bool)
                                                  and asz > 0)):
        problems.append(f"{w}: access_size {asz!r} is neither null nor a positive integer")
    arg = r.get("argument")
    if "argument" in r and not (arg is None or (isinstance(arg, int) and not isinstance(arg, bool)
                                                and arg > 0)):
        problems.append(f"{w}: argument {arg!r} is neither null (a fault) nor a positive integer")
    if r.get("size") is not None:
        # a block is involved: its start and the offset of the address in it
        blk, off = r.get("block"), r.get("offset")
        if not (isinstance(blk, str) and HEX.match(blk)):
            problems.append(f"{w}: block {blk!r} is not a \"0x...\" string")
        elif not (isinstance(off, int) and not isinstance(off, bool)):
            problems.append(f"{w}: offset {off!r} is not an integer")
        elif isinstance(r.get("address"), str) and HEX.match(r["address"]) and \
                int(r["address"], 16) - int(blk, 16) != off:
            problems.append(f"{w}: address - block != offset ({r['address']} - {blk} != {off})")
    if a.kind == "stack-buffer-overflow" or a.return_slot:
        slot = r.get("return_address_slot")
        if not (isinstance(slot, str) and HEX.match(slot)):
            problems.append(f"{w}: return_address_slot {slot!r} is not a \"0x...\" string")
        elif isinstance(r.get("address"), str) and HEX.match(r["address"]) and \
                int(slot, 16) <= int(r["address"], 16):
            problems.append(f"{w}: return_address_slot {slot} is not above the address {r['address']}")
    if a.function is not None and r.get("function") != a.function:
        problems.append(f"{w}: function {r.get('function')!r}, expected {a.function!r}")
    if a.action is not None and r.get("action") != a.action:
        problems.append(f"{w}: action {r.get('action')!r}, expected {a.action!r}")
    if a.access is not None and r.get("access") != a.access:
        problems.append(f"{w}: access {r.get('access')!r}, expected {a.access!r}")
    if a.access_size is not None:
        want = None if a.access_size == "null" else int(a.access_size)
        if "access_size" not in r or asz != want:
            problems.append(f"{w}: access_size {asz!r}, expected {a.access_size}")
    if a.argument is not None and arg != a.argument:
        problems.append(f"{w}: argument {arg!r}, expected {a.argument}")
    if a.klass is not None and r.get("class") != a.klass:
        problems.append(f"{w}: class {r.get('class')!r}, expected {a.klass!r}")
    if a.alloc_site:
        if not isinstance(r.get("alloc_site"), dict):
            problems.append(f"{w}: alloc_site {r.get('alloc_site')!r:.60} is not an object")
        if r.get("free_site") is not None:
            problems.append(f"{w}: free_site is not null for a live block")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--kind", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--class", dest="klass")
    ap.add_argument("--size", type=int)
    ap.add_argument("--offset", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--sites", action="store_true",
                    help="alloc_site and free_site must be objects (double-free)")
    # bad accesses (string and memory calls)
    ap.add_argument("--repeats", type=int,
                    help="exactly one 'repeats' summary line for KIND, with this count")
    ap.add_argument("--function", help="the checked call, e.g. strcpy, __strcpy_chk")
    ap.add_argument("--action", help="abort, skipped, clamped or continued")
    ap.add_argument("--access", choices=("read", "write"))
    ap.add_argument("--access-size", dest="access_size",
                    help="a number, or 'null' for a read up to a NUL")
    ap.add_argument("--argument", type=int, help="1-based argument number")
    ap.add_argument("--alloc-site", dest="alloc_site", action="store_true",
                    help="alloc_site must be an object, free_site null (a live block)")
    ap.add_argument("--return-slot", dest="return_slot", action="store_true",
                    help="return_address_slot must be a \"0x...\" string above the address")
    a = ap.parse_args()

    problems = []
    reports = []
    summaries = []
    with open(a.file, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        print(f"log is not UTF-8: {e}")
        return 1
    for n, line in enumerate(text.split("\n"), 1):
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError as e:
                problems.append(f"line {n} is not one JSON object ({e}): {line[:100]}")
                continue
            if not isinstance(obj, dict):
                problems.append(f"line {n} is JSON but not an object")
                continue
            if "summary" in obj:  # e.g. the repeat counts written at exit
                summaries.append((n, obj))
            else:
                reports.append((n, obj))
        elif "ERROR: cgoguard" in line or line.startswith("SUMMARY: cgoguard"):
            problems.append(f"line {n} is a text report line in json mode: {line[:100]}")
    if a.repeats is not None:
        counts = [o.get("count") for _, o in summaries
                  if o.get("summary") == "repeats" and o.get("kind") == a.kind]
        sigs = {r.get("signature") for _, r in reports}
        if counts != [a.repeats]:
            problems.append(f"repeat counts {counts}, expected [{a.repeats}]")
        elif not all(o.get("signature") in sigs for _, o in summaries):
            problems.append("a repeats summary names a signature no report has")
    if len(reports) != a.count:
        problems.append(f"expected {a.count} JSON reports, found {len(reports)}")
    for n, r in reports:
        w = f"line {n}"
        for k in ("kind", "pid", "tid", "address", "size", "mode", "action",
                  "stack", "alloc_site", "free_site", "signature"):
            if k not in r:
                problems.append(f"{w}: missing key {k!r}")
        if r.get("kind") != a.kind:
            problems.append(f"{w}: kind {r.get('kind')!r}, expected {a.kind!r}")
        for k in ("pid", "tid"):
            v = r.get(k)
            if k in r and not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
                problems.append(f"{w}: {k} {v!r} is not a positive integer")
        if a.pid is not None and r.get("pid") != a.pid:
            problems.append(f"{w}: pid {r.get('pid')!r}, expected {a.pid}")
        addr = r.get("address")
        if "address" in r and not (isinstance(addr, str) and HEX.match(addr)):
            problems.append(f"{w}: address {addr!r} is not a \"0x...\" string")
        size = r.get("size")
        if "size" in r and not (size is None or (isinstance(size, int) and not isinstance(size, bool))):
            problems.append(f"{w}: size {size!r} is neither null nor an integer")
        if a.size is not None and size != a.size:
            problems.append(f"{w}: size {size!r}, expected {a.size}")
        if r.get("mode") != a.mode:
            problems.append(f"{w}: mode {r.get('mode')!r}, expected {a.mode!r}")
        if "action" in r and not (isinstance(r["action"], str) and r["action"]):
            problems.append(f"{w}: action {r['action']!r} is not a non-empty string")
        if "stack" in r:
            check_stack(f"{w} stack", r["stack"], problems)
        if "alloc_site" in r:
            check_site(f"{w} alloc_site", r["alloc_site"], problems, a.sites)
        if "free_site" in r:
            check_site(f"{w} free_site", r["free_site"], problems, a.sites)
        if a.kind == "invalid-free":
            c = r.get("class")
            if c not in CLASSES:
                problems.append(f"{w}: class {c!r} is not one of {sorted(CLASSES)}")
            if a.klass is not None and c != a.klass:
                problems.append(f"{w}: class {c!r}, expected {a.klass!r}")
        if a.offset is not None and r.get("offset") != a.offset:
            problems.append(f"{w}: offset {r.get('offset')!r}, expected {a.offset}")
        if a.kind in ACCESS_KINDS:
            check_access(w, r, a, problems)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
