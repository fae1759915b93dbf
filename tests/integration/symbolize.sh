#!/usr/bin/env bash
# cgoguard symbolizer test: builds a C program and a cgo program with known
# bugs at known lines (tests/integration/symtest/), captures their text and
# JSON reports under LD_PRELOAD=$SHIM (mode=neutralize), runs
# scripts/cgoguard-symbolize on the logs and checks the file:line of C and
# Go frames, JSON validity, --root, pass-through of other lines, missing
# modules and tools, and one tool process per module.  One line per test,
# "PASS name" or "FAIL name: reason" (followed by the files involved,
# indented), then "N passed, N failed".  Exit status is nonzero when
# anything failed.
#
#   bash tests/integration/symbolize.sh     from the repo root
#   ROOT=...  SHIM=...                      override the repo / the shim
#   ITEST_FILTER=regex                      run only tests whose name matches
#   ITEST_TIMEOUT=seconds                   per program run (default 60)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
suite_setup symtest 60 "run tmp" "bin build-logs"
SRC=$HERE/symtest
SYM=$ROOT/scripts/cgoguard-symbolize

# ------------------------------------------------------------------ running

RUNID=0
RC=0
O= # stdout file of the last run
E= # stderr file of the last run

# xrun OPTIONS CMD...: runs CMD under the shim with CGOGUARD_OPTIONS=OPTIONS;
# sets RC, $O and $E.
xrun() {
  local opts=$1
  shift
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  { timeout -s KILL "$TIMEOUT" env -u GOTRACEBACK LD_PRELOAD="$SHIM" CGOGUARD_OPTIONS="$opts" \
    "$@" >"$O" 2>"$E" </dev/null; } 2>/dev/null
  RC=$?
  [ "$RC" -eq 137 ] && bad "killed (timeout ${TIMEOUT}s?)"
  return 0
}

# sym [ENV=VALUE...] -- ARGS...: runs the symbolizer; sets SRC_RC, $SO, $SE.
SO=
SE=
SRC_RC=0
sym() {
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  RUNID=$((RUNID + 1))
  SO=$OUT/run/$RUNID.sym.out
  SE=$OUT/run/$RUNID.sym.err
  timeout -s KILL "$TIMEOUT" env "${envs[@]}" "$SYM" "$@" >"$SO" 2>"$SE"
  SRC_RC=$?
  show "$SO" "symbolizer stdout"
  show "$SE" "symbolizer stderr"
  return 0
}

# line_of FILE MARKER: the line of "SYMTEST:MARKER" in a source file.
line_of() { grep -n -m1 -- "SYMTEST:$2\\b" "$1" | cut -d: -f1; }

# frame_at FILE FUNC_REGEX LOCATION_REGEX: a symbolized text frame of FUNC
# (the symbol before +0x...) ends with " at LOCATION".
frame_at() {
  grep -q -E "^    #[0-9]+ 0x[0-9a-f]+ in ($2)\\+0x[0-9a-f]+ \\(.*\\) at ($3)( \\(inlined [^ ]+\\))?\$" "$1"
}

# unsymbolized FILE: the text with our additions taken off (" at ..." after
# a frame, the "#N.k" lines), which must give back the input exactly.
unsymbolized() {
  sed -E -e '/^ *#[0-9]+\.[0-9]+ 0x[0-9a-f]+ /d' \
    -e 's/^( *#[0-9]+ 0x[0-9a-f]+ .*\([^()]+\+0x[0-9a-f]+\)) at .*$/\1/' "$1"
}

# check_roundtrip IN OUT: OUT is IN plus symbolizer additions, nothing else.
check_roundtrip() {
  unsymbolized "$2" | cmp -s - "$1" || bad "output minus the added locations differs from the input"
}

# check_json_log IN OUT CHECKS: every JSON line of IN is one JSON object on
# the same line of OUT with the same keys in the same order, the same
# values, and "file" and "line" added to each frame; CHECKS (python) may
# test the frames further: expect(func_regex, file_suffix, line) passes
# when some frame of some report matches.
check_json_log() {
  local out
  if ! out=$(python3 - "$1" "$2" "$3" 2>&1 <<'EOF'
import json, re, sys
inp, outp, checks = sys.argv[1:4]
a = open(inp, encoding="utf-8").read().split("\n")
b = open(outp, encoding="utf-8").read().split("\n")
problems = []
if len(a) != len(b):
    problems.append(f"{len(a)} input lines, {len(b)} output lines")
frames = []
def stacks(o):
    s = [o["stack"]] if isinstance(o.get("stack"), list) else []
    for k in ("alloc_site", "free_site"):
        if isinstance(o.get(k), dict) and isinstance(o[k].get("stack"), list):
            s.append(o[k]["stack"])
    return s
for n, (x, y) in enumerate(zip(a, b), 1):
    if not x.startswith("{"):
        if x != y:
            problems.append(f"line {n}: a non-JSON line changed")
        continue
    try:
        ox, oy = json.loads(x), json.loads(y)
    except ValueError as e:
        problems.append(f"line {n}: not one JSON object: {e}")
        continue
    if list(ox) != list(oy):
        problems.append(f"line {n}: keys {list(oy)} != {list(ox)}")
    for k in ox:
        if k not in ("stack", "alloc_site", "free_site") and ox[k] != oy.get(k):
            problems.append(f"line {n}: {k} changed")
    for sx, sy in zip(stacks(ox), stacks(oy)):
        if len(sx) != len(sy):
            problems.append(f"line {n}: a stack changed length")
        for fx, fy in zip(sx, sy):
            if list(fy)[:len(fx)] != list(fx) or any(fy[k] != fx[k] for k in fx):
                problems.append(f"line {n}: frame fields changed: {fx} -> {fy}")
            if "file" not in fy or "line" not in fy:
                problems.append(f"line {n}: frame without file/line: {fy}")
            elif list(fy)[len(fx):len(fx) + 2] != ["file", "line"]:
                problems.append(f"line {n}: file/line not added after the fields: {list(fy)}")
            frames.append(fy)
    if len(stacks(ox)) != len(stacks(oy)):
        problems.append(f"line {n}: stacks changed")
if not frames:
    problems.append("no JSON frames at all")
def expect(func_re, suffix, line):
    for f in frames:
        if re.fullmatch(func_re, f.get("function") or "") and \
                isinstance(f.get("file"), str) and f["file"].endswith(suffix) and \
                (line is None or f.get("line") == line):
            return
    problems.append(f"no frame of {func_re} at *{suffix}:{line}")
exec(checks)
for p in problems[:8]:
    print(p)
sys.exit(1 if problems else 0)
EOF
  ); then
    while IFS= read -r l; do bad "json: $l"; done <<<"$out"
  fi
}

# ----------------------------------------------------------------- building

BIN=$OUT/bin
export GOCACHE="$ROOT/build/gocache" GO111MODULE=off GOFLAGS="" CGO_ENABLED=1
CFLAGS=(-O0 -g -fno-builtin -Wall)

build() { # NAME CMD...: builds $BIN/NAME, log in build-logs
  local name=$1
  shift
  if begin "build/$name"; then
    rm -f "$BIN/$name"
    if ! "$@" >"$OUT/build-logs/$name.log" 2>&1 || [ ! -x "$BIN/$name" ]; then
      bad "build failed"
      show "$OUT/build-logs/$name.log" "build log"
    fi
    finish
  fi
}
build symtest-c gcc "${CFLAGS[@]}" "$SRC/symtest.c" -o "$BIN/symtest-c"
build symtest-c-nopie gcc "${CFLAGS[@]}" -no-pie "$SRC/symtest.c" -o "$BIN/symtest-c-nopie"
# -O2: gcc inlines the preamble's drop_c into cgo's wrapper (inlined frames)
build symtest-go sh -c "cd '$SRC/go' && CGO_CFLAGS='-O2 -g' go build -o '$BIN/symtest-go' ."

if [ ! -f "$SHIM" ]; then
  begin "shim"
  bad "$SHIM does not exist (run make first)"
  finish
  echo "$npass passed, $nfail failed"
  exit 1
fi

C_SRC=$SRC/symtest.c
GO_SRC=$SRC/go/main.go
L_FIRST=$(line_of "$C_SRC" first-free)
L_SECOND=$(line_of "$C_SRC" second-free)
L_MALLOC=$(line_of "$C_SRC" malloc)
L_CALL=$(line_of "$C_SRC" call)
L_GOFREE=$(line_of "$GO_SRC" go-free)
L_GOSECOND=$(line_of "$GO_SRC" go-second-release)
L_DROP=$(line_of "$GO_SRC" drop-free)
L_CSECOND=$(line_of "$GO_SRC" c-second-drop)

# capture NAME OPTIONS CMD...: the program's stderr (the log) as run/NAME.log
capture() {
  local name=$1 opts=$2
  shift 2
  xrun "$opts" "$@"
  cp "$E" "$OUT/run/$name.log"
  show "$OUT/run/$name.log" "log"
  [ "$RC" -ne 0 ] && bad "program exit status $RC"
  grep -q 'ERROR: cgoguard: double-free\|"kind":"double-free"' "$E" || bad "no double-free report in the log"
}

# ------------------------------------------------------------------ C frames

for v in symtest-c symtest-c-nopie; do
  if begin "text/$v"; then
    capture "$v" mode=neutralize "$BIN/$v"
    sym -- "$OUT/run/$v.log"
    [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC"
    [ -s "$SE" ] && bad "symbolizer wrote to stderr"
    frame_at "$SO" drop_twice ".*/symtest\\.c:$L_SECOND" ||
      bad "no 'drop_twice ... at symtest.c:$L_SECOND' frame"
    frame_at "$SO" main ".*/symtest\\.c:$L_CALL" || bad "no 'main ... at symtest.c:$L_CALL' frame"
    grep -A1 '^block allocated' "$SO" | grep -q -E "at .*/symtest\\.c:$L_MALLOC\$" ||
      bad "allocation site not at symtest.c:$L_MALLOC"
    grep -A1 '^block freed' "$SO" | grep -q -E "at .*/symtest\\.c:$L_FIRST\$" ||
      bad "free site not at symtest.c:$L_FIRST"
    check_roundtrip "$OUT/run/$v.log" "$SO"
    finish
  fi
  if begin "json/$v"; then
    capture "$v.json" mode=neutralize:log_format=json "$BIN/$v"
    sym -- "$OUT/run/$v.json.log"
    [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC"
    check_json_log "$OUT/run/$v.json.log" "$SO" "
expect('drop_twice', '/symtest.c', $L_SECOND)
expect('main', '/symtest.c', $L_CALL)
expect('.*', '/symtest.c', $L_MALLOC)
expect('.*', '/symtest.c', $L_FIRST)"
    finish
  fi
done

# ----------------------------------------------------------------- Go frames

if begin "text/symtest-go"; then
  capture symtest-go mode=neutralize "$BIN/symtest-go"
  sym -- "$OUT/run/symtest-go.log"
  [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC"
  [ -s "$SE" ] && bad "symbolizer wrote to stderr"
  # the Go binary's own frames, there with or without Go frames in stacks
  frame_at "$SO" 'runtime\.asmcgocall[.a-z0-9]*|_cgo_[0-9a-f]+_Cfunc_[A-Za-z_]+' '.*\.(go|s|c):[0-9]+' ||
    bad "no runtime.asmcgocall or _cgo_..._Cfunc_ frame at a .go/.s/.c file:line"
  # C code of the preamble (gcc's DWARF), drop_c inlined into cgo's wrapper
  frame_at "$SO" '_cgo_[0-9a-f]+_Cfunc_drop_c|drop_c' ".*/main\\.go:$L_DROP" ||
    bad "no drop_c frame at main.go:$L_DROP"
  if grep -q -E "at .*/main\\.go:$L_DROP \\(inlined drop_c\\)\$" "$SO"; then
    grep -A1 -E "at .*/main\\.go:$L_DROP \\(inlined drop_c\\)\$" "$SO" |
      grep -q -E '^    #[0-9]+\.1 0x[0-9a-f]+ in _cgo_[0-9a-f]+_Cfunc_drop_c at .+:[0-9]+$' ||
      bad "inlined drop_c not followed by a '#N.1 ... in _cgo_..._Cfunc_drop_c at FILE:LINE' line"
  fi
  # Go callers, when the shim's stacks go on past runtime.asmcgocall
  if grep -q -E '^    #[0-9]+ 0x[0-9a-f]+ in main\.release' "$SO"; then
    frame_at "$SO" 'main\.release' ".*/main\\.go:$L_GOFREE" || bad "no main.release frame at main.go:$L_GOFREE"
    frame_at "$SO" 'main\.main' ".*/main\\.go:$L_GOSECOND" || bad "no main.main frame at main.go:$L_GOSECOND"
    frame_at "$SO" 'main\.main' ".*/main\\.go:$L_CSECOND" || bad "no main.main frame at main.go:$L_CSECOND"
  else
    echo "    (note: no main.* Go frames in the stacks; their file:line was not checked)"
  fi
  check_roundtrip "$OUT/run/symtest-go.log" "$SO"
  finish
fi

if begin "json/symtest-go"; then
  capture symtest-go.json mode=neutralize:log_format=json "$BIN/symtest-go"
  sym -- "$OUT/run/symtest-go.json.log"
  [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC"
  checks="
expect(r'runtime\.asmcgocall.*|_cgo_[0-9a-f]+_Cfunc_.*', '', None)
expect(r'_cgo_[0-9a-f]+_Cfunc_drop_c|drop_c', '/main.go', $L_DROP)
if not any(re.search(r'\.(go|s|c)$', f.get('file') or '') for f in frames
           if re.match(r'runtime\.asmcgocall|_cgo_', f.get('function') or '')):
    problems.append('no runtime.asmcgocall/_cgo_ frame at a .go/.s/.c file')"
  grep -q '"function":"main\.release' "$OUT/run/symtest-go.json.log" && checks+="
expect(r'main\.release.*', '/main.go', $L_GOFREE)
expect('main\.main', '/main.go', $L_GOSECOND)"
  check_json_log "$OUT/run/symtest-go.json.log" "$SO" "$checks"
  finish
fi

# -------------------------------------------------------- mixed input, stdin

# other program output, frame look-alikes that are not frames, a JSON line
# that is not a report, bytes that are not UTF-8, CRLF, no final newline
MIXED_JUNK=$OUT/run/junk.txt
{
  printf 'goroutine 1 [running]:\n'
  printf 'main.main()\n\t/src/main.go:12 +0x1d\n'
  printf '    #0 0x1234 in not_a_frame (no module offset)\n'
  printf '    #0 0x1234 (relative/path+0xzz)\n'
  printf '    #3 0x1234 (<unknown>+0x1234)\n'
  printf '{"level":"info","msg":"listening","stack":"not a list"}\n'
  printf '{ broken json\n'
  printf 'latin-1 \xe9\xff bytes\r\n'
  printf '\n\t\n'
  printf 'exit status 2'
} >"$MIXED_JUNK"

if begin "passthrough/unknown-lines"; then
  sym -- "$MIXED_JUNK"
  [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC"
  cmp -s "$MIXED_JUNK" "$SO" || bad "lines with no frames were changed"
  [ -s "$SE" ] && bad "symbolizer wrote to stderr"
  finish
fi

if begin "passthrough/mixed-log-stdin"; then
  MIXED=$OUT/run/mixed.log
  cat "$OUT/run/symtest-c.log" "$MIXED_JUNK" >"$MIXED"
  printf '\n' >>"$MIXED"
  cat "$OUT/run/symtest-go.json.log" "$OUT/run/symtest-go.log" >>"$MIXED"
  show "$MIXED" "input"
  RUNID=$((RUNID + 1))
  SO=$OUT/run/$RUNID.sym.out
  SE=$OUT/run/$RUNID.sym.err
  show "$SO" "symbolizer stdout"
  "$SYM" <"$MIXED" >"$SO" 2>"$SE" || bad "symbolizer exit status (stdin) nonzero"
  frame_at "$SO" drop_twice ".*/symtest\\.c:$L_SECOND" || bad "C frame not symbolized from stdin"
  frame_at "$SO" '_cgo_[0-9a-f]+_Cfunc_drop_c|drop_c' ".*/main\\.go:$L_DROP" ||
    bad "Go binary frame not symbolized from stdin"
  grep -q -E '^\{"kind":.*"file":"[^"]*/main\.go","line":'"$L_DROP" "$SO" || bad "JSON report not symbolized"
  grep -F -x -q 'goroutine 1 [running]:' "$SO" || bad "goroutine dump line lost"
  LC_ALL=C grep -a -F -q "$(printf 'latin-1 \xe9\xff bytes\r')" "$SO" || bad "non-UTF-8 line changed"
  # the same through a file argument and -o
  FILE_OUT=$OUT/run/$RUNID.o.out
  "$SYM" -o "$FILE_OUT" "$MIXED" >"$OUT/run/$RUNID.o.stdout" 2>/dev/null
  cmp -s "$SO" "$FILE_OUT" || bad "-o FILE output differs from stdout output"
  [ -s "$OUT/run/$RUNID.o.stdout" ] && bad "-o FILE also wrote to stdout"
  # running it again changes nothing
  "$SYM" "$SO" 2>/dev/null | cmp -s - "$SO" || bad "symbolizing twice changes the output"
  finish
fi

# --------------------------------------------------------------------- --root

FAKE=/cgoguard-symtest-nonexistent/opt/app # where "the other machine" had them
if begin "root/fake-path"; then
  if [ -e "$FAKE" ]; then
    bad "$FAKE exists"
  else
    RDIR=$OUT/tmp/root
    mkdir -p "$RDIR$FAKE"
    cp "$BIN/symtest-c" "$BIN/symtest-go" "$RDIR$FAKE/"
    for f in symtest-c symtest-go symtest-c.json symtest-go.json; do
      sed "s|$BIN/|$FAKE/|g" "$OUT/run/$f.log" >"$OUT/tmp/$f.moved.log"
    done
    show "$OUT/tmp/symtest-c.moved.log" "moved log"
    sym -- --root "$RDIR" "$OUT/tmp/symtest-c.moved.log"
    [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC"
    [ -s "$SE" ] && bad "symbolizer warned with --root"
    frame_at "$SO" drop_twice ".*/symtest\\.c:$L_SECOND" || bad "C frame not found under --root"
    grep -q -F "($FAKE/symtest-c+0x" "$SO" || bad "module paths in frames changed"
    sym -- --root "$RDIR" "$OUT/tmp/symtest-go.moved.log"
    frame_at "$SO" '_cgo_[0-9a-f]+_Cfunc_drop_c|drop_c' ".*/main\\.go:$L_DROP" ||
      bad "Go binary frame not found under --root"
    sym -- --root "$RDIR" "$OUT/tmp/symtest-go.json.moved.log"
    check_json_log "$OUT/tmp/symtest-go.json.moved.log" "$SO" \
      "expect(r'_cgo_[0-9a-f]+_Cfunc_drop_c|drop_c', '/main.go', $L_DROP)"
    # without --root the same log has nothing to look in
    sym -- "$OUT/tmp/symtest-c.moved.log"
    grep -q -F "$FAKE/symtest-c" "$SO" || bad "without --root frames lost their module"
    grep -q -E "\\($FAKE/symtest-c\\+0x[0-9a-f]+\\) at " "$SO" && bad "without --root a frame got a location"
    grep -q -F "$FAKE/symtest-c" "$SE" || bad "without --root no warning names the module"
  fi
  finish
fi

if begin "root/moved-away"; then
  # the original binaries moved away: the log's own paths are gone
  RDIR2=$OUT/tmp/root2
  mkdir -p "$RDIR2$BIN"
  mv "$BIN/symtest-c-nopie" "$RDIR2$BIN/"
  sym -- --root "$RDIR2" "$OUT/run/symtest-c-nopie.log"
  [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC"
  frame_at "$SO" drop_twice ".*/symtest\\.c:$L_SECOND" || bad "C frame not found under --root"
  grep -q 'symtest-c-nopie' "$SE" && bad "warned about the moved module"
  mv "$RDIR2$BIN/symtest-c-nopie" "$BIN/"
  finish
fi

# ------------------------------------------------------------ missing things

if begin "missing/module"; then
  GONE=$OUT/tmp/gone.log
  sed "s|$BIN/symtest-c|$OUT/tmp/no-such-dir/symtest-c|g" "$OUT/run/symtest-c.log" >"$GONE"
  sed "s|$BIN/symtest-c|$OUT/tmp/no-such-dir/symtest-c|g" "$OUT/run/symtest-c.json.log" >"$GONE.json"
  show "$GONE" "input"
  sym -- "$GONE"
  [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC (want 0)"
  n=$(grep -c -F "$OUT/tmp/no-such-dir/symtest-c" "$SE")
  [ "$n" -ne 1 ] && bad "$n warning lines name the missing module (want 1)"
  grep -q -F "$OUT/tmp/no-such-dir/symtest-c" "$SO" || bad "frames lost their module"
  grep -q -E "\\($OUT/tmp/no-such-dir/symtest-c\\+0x[0-9a-f]+\\) at " "$SO" &&
    bad "a frame of the missing module got a location"
  check_roundtrip "$GONE" "$SO"
  sym -- "$GONE.json"
  n=$(grep -c -F "$OUT/tmp/no-such-dir/symtest-c" "$SE")
  [ "$n" -ne 1 ] && bad "json: $n warning lines name the missing module (want 1)"
  check_json_log "$GONE.json" "$SO" "
for f in frames:
    if 'no-such-dir' in (f.get('module') or '') and (f['file'], f['line']) != (None, None):
        problems.append(f'a frame of the missing module got a location: {f}')"
  finish
fi

# a PATH with addr2line but no go: the Go binary is left alone, one warning
if begin "missing/go-tool"; then
  NOGO=$OUT/tmp/nogo-bin
  mkdir -p "$NOGO"
  ln -sf "$(command -v addr2line)" "$NOGO/addr2line"
  ln -sf "$(python3 -c 'import sys; print(sys.executable)')" "$NOGO/python3"
  ln -sf "$(command -v env)" "$NOGO/env"
  sym PATH="$NOGO" -- "$OUT/run/symtest-go.log"
  [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC (want 0)"
  n=$(grep -c -F "$BIN/symtest-go" "$SE")
  [ "$n" -ne 1 ] && bad "$n warning lines name the Go binary (want 1)"
  cmp -s "$SO" "$OUT/run/symtest-go.log" || bad "frames changed without the go tool"
  finish
fi

# ---------------------------------------------------------- one process each

# wrappers count the tool processes: one per module, however many frames
if begin "batch/one-process-per-module"; then
  WRAP=$OUT/tmp/wrap-bin
  CALLS=$OUT/tmp/calls
  mkdir -p "$WRAP"
  : >"$CALLS"
  for tool in addr2line go; do
    real=$(command -v "$tool")
    printf '#!/bin/sh\necho "%s $*" >>"%s"\nexec "%s" "$@"\n' "$tool" "$CALLS" "$real" >"$WRAP/$tool"
    chmod +x "$WRAP/$tool"
  done
  show "$CALLS" "tool calls"
  # two copies of each log: more frames, the same modules
  cat "$OUT/run/symtest-c.log" "$OUT/run/symtest-c.log" "$OUT/run/symtest-go.log" \
    "$OUT/run/symtest-go.log" "$OUT/run/symtest-go.json.log" >"$OUT/tmp/batch.log"
  sym PATH="$WRAP:$PATH" -- "$OUT/tmp/batch.log"
  [ "$SRC_RC" -ne 0 ] && bad "symbolizer exit status $SRC_RC"
  frame_at "$SO" drop_twice ".*/symtest\\.c:$L_SECOND" || bad "C frame not symbolized"
  nmods=$(grep -o -E '\(/[^()]+\+0x[0-9a-f]+\)$' "$OUT/tmp/batch.log" | sed -E 's/\+0x[0-9a-f]+\)$//' | sort -u | wc -l)
  nc=$(grep -c -F "addr2line -e $BIN/symtest-c " "$CALLS")
  ng=$(grep -c -F "go tool addr2line $BIN/symtest-go" "$CALLS")
  ngc=$(grep -c -F "addr2line -e $BIN/symtest-go " "$CALLS")
  nall=$(grep -c -E '^addr2line ' "$CALLS")
  [ "$nc" -ne 1 ] && bad "$nc addr2line runs for symtest-c (want 1)"
  [ "$ng" -ne 1 ] && bad "$ng go tool addr2line runs for symtest-go (want 1)"
  [ "$ngc" -gt 1 ] && bad "$ngc addr2line runs for symtest-go's C code (want at most 1)"
  [ "$nall" -gt "$nmods" ] && bad "$nall addr2line runs for $nmods modules"
  finish
fi

# --------------------------------------------------------------------- usage

if begin "usage"; then
  sym -- --help
  [ "$SRC_RC" -ne 0 ] && bad "--help exit status $SRC_RC (want 0)"
  grep -q -- '--root' "$SO" || bad "--help does not mention --root"
  sym -- --no-such-option
  [ "$SRC_RC" -ne 2 ] && bad "unknown option: exit status $SRC_RC (want 2)"
  sym -- "$OUT/tmp/no-such-log"
  [ "$SRC_RC" -ne 2 ] && bad "missing input file: exit status $SRC_RC (want 2)"
  sym -- a b
  [ "$SRC_RC" -ne 2 ] && bad "two input files: exit status $SRC_RC (want 2)"
  finish
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
