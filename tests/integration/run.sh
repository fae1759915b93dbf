#!/usr/bin/env bash
# cgoguard integration suite: builds real C, C++ and cgo programs, runs them
# under LD_PRELOAD=$SHIM in both modes and checks the reports, the exit
# status and the output.  One line per test, "PASS name" or
# "FAIL name: reason" (followed by the program's output, indented), then
# "N passed, N failed".  Exit status is nonzero when anything failed.
#
#   bash tests/integration/run.sh            from the repo root
#   ROOT=...  SHIM=...                       override the repo / the shim
#   ITEST_FILTER=regex                       run only tests whose name matches
#   ITEST_TIMEOUT=seconds                    per program run (default 60)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(cd "$HERE/../.." && pwd)}
SHIM=${SHIM:-$ROOT/build/libcgoguard.so}
case $SHIM in /*) ;; *) SHIM=$PWD/$SHIM ;; esac # LD_PRELOAD wants it absolute
OUT=$ROOT/build/itest
TIMEOUT=${ITEST_TIMEOUT:-60}
FILTER=${ITEST_FILTER:-}
SRC=$HERE
cd "$ROOT" || exit 2

npass=0
nfail=0
mkdir -p "$OUT"
# one run at a time: runs share $OUT (binaries, logs)
exec 9>"$OUT/.lock"
flock 9
rm -rf "$OUT/run" "$OUT/logs"
mkdir -p "$OUT/run" "$OUT/logs" "$OUT/build-logs"

# ---------------------------------------------------------------- reporting

TNAME=
REASONS=()
SHOW=()

# begin NAME: starts a test; returns 1 (skip) when ITEST_FILTER excludes it.
begin() {
  TNAME=$1
  REASONS=()
  SHOW=()
  if [ -n "$FILTER" ] && ! [[ $TNAME =~ $FILTER ]]; then
    return 1
  fi
  return 0
}

# bad REASON: records a failed check of the current test.
bad() { REASONS+=("$1"); }

# show FILE LABEL: the file is printed (first 20 lines) if the test fails.
show() { SHOW+=("$1" "$2"); }

finish() {
  if [ ${#REASONS[@]} -eq 0 ]; then
    echo "PASS $TNAME"
    npass=$((npass + 1))
  else
    local IFS=';'
    echo "FAIL $TNAME: ${REASONS[*]}"
    unset IFS
    local i
    for ((i = 0; i < ${#SHOW[@]}; i += 2)); do
      if [ -s "${SHOW[i]}" ]; then
        echo "    --- ${SHOW[i+1]} (first 20 lines):"
        head -n 20 "${SHOW[i]}" | cut -c1-300 | sed 's/^/    | /'
      else
        echo "    --- ${SHOW[i+1]}: (empty)"
      fi
    done
    nfail=$((nfail + 1))
  fi
}

# ------------------------------------------------------------------ running

RUNID=0
RC=0
O= # stdout file of the last run
E= # stderr file of the last run
IN=/dev/null

# xrun OPTIONS CMD...: runs CMD under the shim with CGOGUARD_OPTIONS=OPTIONS
# (unset when OPTIONS is "-"); sets RC, $O and $E.
xrun() {
  local opts=$1
  shift
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  local envopts=(env -u GOTRACEBACK -u CGOGUARD_OPTIONS LD_PRELOAD="$SHIM")
  [ "$opts" != "-" ] && envopts+=(CGOGUARD_OPTIONS="$opts")
  # (the braces keep bash's "Aborted" job notice out of the suite's output)
  { timeout -s KILL "$TIMEOUT" "${envopts[@]}" "$@" >"$O" 2>"$E" <"$IN"; } 2>/dev/null
  RC=$?
  show "$O" "stdout"
  show "$E" "stderr"
  [ "$RC" -eq 137 ] && bad "killed (timeout ${TIMEOUT}s?)"
  return 0
}

# prun CMD...: the same without the shim.
prun() {
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  { timeout -s KILL "$TIMEOUT" env -u GOTRACEBACK -u CGOGUARD_OPTIONS -u LD_PRELOAD \
    "$@" >"$O" 2>"$E" <"$IN"; } 2>/dev/null
  RC=$?
  return 0
}

# nreports FILE: number of text report headers in FILE.
nreports() { grep -c 'ERROR: cgoguard:' "$1" 2>/dev/null || true; }

# first line number of a (grep -E) pattern in a file, or 0.
lineof() { grep -n -E -m1 -- "$2" "$1" 2>/dev/null | cut -d: -f1 | grep . || echo 0; }

# check_text_reports FILE KIND COUNT: COUNT complete text reports, all KIND.
check_text_reports() {
  local f=$1 kind=$2 count=$3 n
  n=$(nreports "$f")
  if [ "$n" -ne "$count" ]; then
    bad "expected $count report(s), found $n"
  fi
  [ "$n" -eq 0 ] && return 0
  local hdr_ok hdr_all sum_all
  hdr_all=$(grep -c 'ERROR: cgoguard:' "$f")
  hdr_ok=$(grep -c -E "^==[0-9]+==ERROR: cgoguard: $kind on address 0x[0-9a-fA-F]+" "$f")
  [ "$hdr_ok" -ne "$hdr_all" ] &&
    bad "$((hdr_all - hdr_ok)) report header(s) not '==PID==ERROR: cgoguard: $kind on address 0x...'"
  sum_all=$(grep -c -E "^SUMMARY: cgoguard: $kind( |$)" "$f")
  [ "$sum_all" -ne "$hdr_all" ] &&
    bad "$sum_all 'SUMMARY: cgoguard: $kind' line(s) for $hdr_all report(s)"
  # the first report: a #0 frame in the documented layout between header and SUMMARY
  local h s
  h=$(lineof "$f" 'ERROR: cgoguard:')
  s=$(lineof "$f" '^SUMMARY: cgoguard:')
  if [ "$s" -le "$h" ]; then
    bad "no SUMMARY line after the first report header"
  elif ! sed -n "${h},${s}p" "$f" |
    grep -q -E '^    #0 0x[0-9a-fA-F]+ (in [^ ]+\+0x[0-9a-fA-F]+ )?\([^()]+\+0x[0-9a-fA-F]+\)$'; then
    bad "first report has no '    #0 0xPC [in FUNC+0xOFF ](MODULE+0xOFF)' frame"
  fi
}

# check_module FILE MODULE: a frame of the first report is in MODULE (a
# file name; the module part of a frame is always present).
check_module() {
  local f=$1 mod=$2 h s
  h=$(lineof "$f" 'ERROR: cgoguard:')
  s=$(lineof "$f" '^SUMMARY: cgoguard:')
  [ "$h" -eq 0 ] || [ "$s" -le "$h" ] && return 0
  sed -n "${h},${s}p" "$f" | grep -q -E "^    #[0-9]+ 0x[0-9a-fA-F]+ .*\\((.*/)?$mod\\+0x[0-9a-fA-F]+\\)\$" ||
    bad "no frame of the first report is in module $mod"
}

# check_sites FILE: the first (double-free) report shows the allocation site
# and the first free's site, each a line followed by a #0 frame.
check_sites() {
  local f=$1 h s body
  h=$(lineof "$f" 'ERROR: cgoguard:')
  s=$(lineof "$f" '^SUMMARY: cgoguard:')
  [ "$h" -eq 0 ] || [ "$s" -le "$h" ] && return 0
  body=$(sed -n "$((h + 1)),${s}p" "$f")
  grep -A1 -i -E '^[^ ].*alloc' <<<"$body" | grep -q '^    #0 ' ||
    bad "first report shows no allocation site (a line naming alloc... then #0)"
  grep -A1 -i -E '^[^ ].*free' <<<"$body" | grep -q '^    #0 ' ||
    bad "first report shows no free site (a line naming free... then #0)"
}

# check_outcome MODE LANG: exit status and survival marker for a bug program
# that hit its bug.  LANG is c or go.
check_outcome() {
  local mode=$1 lang=$2
  if [ "$mode" = abort ]; then
    if [ "$lang" = go ]; then
      [ "$RC" -ne 2 ] && bad "exit status $RC, expected 2 (Go after SIGABRT)"
      local s a
      s=$(lineof "$E" '^SUMMARY: cgoguard:')
      a=$(lineof "$E" '^SIGABRT: abort')
      if [ "$a" -eq 0 ]; then
        bad "no 'SIGABRT: abort' goroutine dump"
      else
        [ "$a" -le "$s" ] && bad "Go's SIGABRT dump (line $a) does not follow the report's SUMMARY (line $s)"
        tail -n +"$a" "$E" | grep -q '^goroutine 1 ' || bad "dump lacks 'goroutine 1'"
        tail -n +"$a" "$E" | grep -q 'main\.main' || bad "dump lacks main.main"
      fi
    else
      [ "$RC" -ne 134 ] && bad "exit status $RC, expected 134 (SIGABRT)"
    fi
    grep -q '^start$' "$O" || bad "program did not start (no 'start' on stdout)"
    grep -q '^survived$' "$O" && bad "program survived in abort mode"
  else
    [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0"
    grep -q '^survived$' "$O" || bad "no 'survived' marker on stdout"
  fi
}

# check_json FILE ARGS...: runs checkjson.py, each problem becomes a reason.
check_json() {
  local out
  if ! out=$(python3 "$SRC/checkjson.py" "$@" 2>&1); then
    while IFS= read -r l; do bad "json: $l"; done < <(head -n 8 <<<"$out")
  fi
}

# bug_tests NAME LANG KIND CLASS CMD...: the abort, neutralize and json tests
# of one bug program (CLASS "-" for double-free).
bug_tests() {
  local name=$1 lang=$2 kind=$3 class=$4
  shift 4
  local jargs=(--count 1 --kind "$kind" --mode neutralize)
  [ "$class" != "-" ] && jargs+=(--class "$class")
  [ "$kind" = double-free ] && jargs+=(--sites)
  local mod
  mod=$(basename "$1")
  local mode
  for mode in abort neutralize; do
    if begin "$name/$mode"; then
      xrun "mode=$mode" "$@"
      check_text_reports "$E" "$kind" 1
      check_module "$E" "$mod"
      [ "$kind" = double-free ] && check_sites "$E"
      check_outcome "$mode" "$lang"
      finish
    fi
  done
  if begin "$name/json"; then
    xrun "mode=neutralize:log_format=json" "$@"
    check_json "$E" "${jargs[@]}"
    check_outcome neutralize "$lang"
    finish
  fi
}

# same_as_plain CMD...: runs CMD without and with the shim (default options);
# same stdout and exit status, no report and no cgoguard line on stderr.
same_as_plain() {
  prun "$@"
  local po=$OUT/run/$RUNID.plain.out prc=$RC
  mv "$O" "$po"
  show "$po" "stdout without the shim"
  xrun - "$@"
  [ "$RC" -ne "$prc" ] && bad "exit status $RC under the shim, $prc without"
  cmp -s "$po" "$O" || bad "stdout differs from the run without the shim"
  local n
  n=$(nreports "$E")
  [ "$n" -ne 0 ] && bad "$n report(s) for a correct program"
  grep -q 'cgoguard' "$E" && bad "stderr mentions cgoguard"
  return 0
}

# ----------------------------------------------------------------- building

BIN=$OUT/bin
mkdir -p "$BIN"
CFLAGS=(-O0 -g -fno-builtin -Wall -Wno-free-nonheap-object -I"$SRC/c")
export GOCACHE="$ROOT/build/gocache" GO111MODULE=off GOFLAGS="" CGO_ENABLED=1

build_c() { # name: log in build-logs
  local name=$1
  shift
  "$@" >"$OUT/build-logs/$name.log" 2>&1
}

bpids=()
bnames=()
spawn() {
  local name=$1
  shift
  rm -f "$BIN/$name"
  (build_c "$name" "$@") &
  bpids+=($!)
  bnames+=("$name")
}
spawn cbugs gcc "${CFLAGS[@]}" "$SRC/c/cbugs.c" "$SRC/c/helpers.c" -o "$BIN/cbugs"
spawn capi gcc "${CFLAGS[@]}" "$SRC/c/capi.c" "$SRC/c/helpers.c" -o "$BIN/capi"
spawn cthreads gcc "${CFLAGS[@]}" -pthread "$SRC/c/cthreads.c" "$SRC/c/helpers.c" -o "$BIN/cthreads"
spawn heldthreads gcc "${CFLAGS[@]}" -pthread "$SRC/c/heldthreads.c" -o "$BIN/heldthreads"
spawn cxx g++ -O0 -g -fno-builtin -Wall -std=c++17 "$SRC/c/cxx.cpp" -o "$BIN/cxx"
spawn gobugs sh -c "cd '$SRC/go/bugs' && go build -o '$BIN/gobugs' ."
spawn gook sh -c "cd '$SRC/go/ok' && go build -o '$BIN/gook' ."
for i in "${!bpids[@]}"; do
  wait "${bpids[i]}"
  brc=$?
  if begin "build/${bnames[i]}"; then
    if [ "$brc" -ne 0 ] || [ ! -x "$BIN/${bnames[i]}" ]; then
      bad "build failed (status $brc)"
      show "$OUT/build-logs/${bnames[i]}.log" "build log"
    fi
    finish
  fi
done

if [ -n "${ITEST_BUILD_ONLY:-}" ]; then
  echo "$npass passed, $nfail failed"
  [ "$nfail" -eq 0 ]
  exit
fi

if [ ! -f "$SHIM" ]; then
  begin "shim"
  bad "$SHIM does not exist (run make first)"
  finish
  echo "$npass passed, $nfail failed"
  exit 1
fi

# ------------------------------------------------------------ C bug programs

bug_tests c/double-free c double-free - "$BIN/cbugs" double
bug_tests c/double-free-after-reuse c double-free - "$BIN/cbugs" double-reuse
bug_tests c/realloc-of-freed c double-free - "$BIN/cbugs" realloc-freed
bug_tests c/free-stack c invalid-free stack "$BIN/cbugs" stack
bug_tests c/free-literal c invalid-free readonly "$BIN/cbugs" literal
bug_tests c/free-global c invalid-free global "$BIN/cbugs" global
bug_tests c/free-global-bss c invalid-free global "$BIN/cbugs" global-bss
bug_tests c/free-unknown c invalid-free unknown "$BIN/cbugs" unknown
bug_tests c/realloc-zero-then-free c double-free - "$BIN/cbugs" realloc0
bug_tests cxx/delete-twice c double-free - "$BIN/cxx" delete-twice

if begin c/double-free-variety/neutralize; then
  xrun "mode=neutralize" "$BIN/cbugs" double-variety
  check_text_reports "$E" double-free 5
  check_outcome neutralize c
  finish
fi
if begin c/double-free-variety/json; then
  xrun "mode=neutralize:log_format=json" "$BIN/cbugs" double-variety
  check_json "$E" --count 5 --kind double-free --mode neutralize --sites
  check_outcome neutralize c
  finish
fi
if begin c/double-free-then-heap-intact; then
  xrun "mode=neutralize" "$BIN/cbugs" double-then-distinct
  check_text_reports "$E" double-free 1
  check_outcome neutralize c
  grep -q '^aliased blocks: 0$' "$O" || bad "blocks handed out twice after the neutralized double free"
  finish
fi

if begin c/realloc-of-freed/neutralize-returns-block; then
  xrun "mode=neutralize" "$BIN/cbugs" realloc-freed
  grep -q '^realloc of freed block returned a block$' "$O" ||
    bad "neutralized realloc of a freed block did not return a block"
  finish
fi

if begin c/realloc-zero-then-free/returns-null; then
  xrun "mode=neutralize" "$BIN/cbugs" realloc0
  grep -q '^realloc(p, 0) returned NULL$' "$O" || bad "realloc(p, 0) did not return NULL"
  finish
fi

bug_tests c/free-interior c invalid-free interior "$BIN/cbugs" interior
if begin c/free-interior/offset-size; then
  xrun "mode=neutralize" "$BIN/cbugs" interior
  # the report's text, hex numbers removed, must name offset 8 and size 32
  body=$(sed -n '/ERROR: cgoguard:/,/^SUMMARY: cgoguard:/p' "$E" | grep -v '^    #' |
    sed -E 's/0x[0-9a-fA-F]+//g')
  grep -q -E '(^|[^0-9])8([^0-9]|$)' <<<"$body" || bad "report text does not mention offset 8"
  grep -q -E '(^|[^0-9])32([^0-9]|$)' <<<"$body" || bad "report text does not mention size 32"
  xrun "mode=neutralize:log_format=json" "$BIN/cbugs" interior
  check_json "$E" --count 1 --kind invalid-free --mode neutralize --class interior --size 32 --offset 8
  finish
fi

# ------------------------------------------------------------- thread race

if begin c/held-by-many-threads/same-as-plain; then
  same_as_plain "$BIN/heldthreads"
  finish
fi

if begin c/race-1000/neutralize; then
  xrun "mode=neutralize:max_reports=100000" "$BIN/cthreads"
  check_text_reports "$E" double-free 1000
  check_outcome neutralize c
  finish
fi
if begin c/race-1000/abort; then
  xrun "mode=abort" "$BIN/cthreads"
  check_text_reports "$E" double-free 1
  check_outcome abort c
  finish
fi
if begin c/race-1000/json; then
  xrun "mode=neutralize:max_reports=100000:log_format=json" "$BIN/cthreads"
  check_json "$E" --count 1000 --kind double-free --mode neutralize --sites
  check_outcome neutralize c
  finish
fi

# ------------------------------------------------- the malloc family's API

if begin c/malloc-api/same-as-plain; then
  same_as_plain "$BIN/capi"
  [ "$RC" -ne 0 ] && bad "capi exit status $RC"
  w=$(grep -c 'WRONG' "$O")
  [ "$w" -ne 0 ] && bad "$w check(s) WRONG under the shim: $(grep WRONG "$O" | sed -E 's/ +WRONG//' | paste -sd, | cut -c1-200)"
  finish
fi
CAPI_OUT=$O
# named checks from that run (under the shim)
capi_check() { # name pattern...
  local name=$1
  shift
  if begin "c/malloc-api/$name"; then
    show "$CAPI_OUT" "stdout"
    local p
    for p in "$@"; do
      grep -q -E "^$p +ok$" "$CAPI_OUT" || bad "'$p' not ok"
    done
    finish
  fi
}
if [ -z "$FILTER" ] || [[ c/malloc-api/same-as-plain =~ $FILTER ]]; then
  capi_check calloc-overflow-enomem 'calloc overflow -> NULL' 'calloc overflow -> ENOMEM'
  capi_check realloc-zero-returns-null 'realloc\(p,0\) -> NULL'
  capi_check posix-memalign-einval 'posix_memalign\(24,\.\.\.\) -> EINVAL' \
    'posix_memalign\(4,\.\.\.\) -> EINVAL' 'posix_memalign\(0,\.\.\.\) -> EINVAL' \
    'posix_memalign EINVAL leaves \*p alone'
  capi_check aligned-family 'aligned_alloc\(256,512\)' 'memalign\(4096,100\)' 'memalign\(32,7\)' \
    'valloc\(100\) page aligned' 'pvalloc\(100\) page aligned' 'pvalloc usable >= page' \
    'posix_memalign\(64,100\) -> 0' 'posix_memalign\(4096,1\) -> 0'
  capi_check reallocarray 'reallocarray\(NULL,10,4\)' 'reallocarray grows, keeps contents' \
    'reallocarray overflow -> NULL' 'reallocarray overflow -> ENOMEM'
  capi_check strdup-strndup 'strdup' 'strndup\(\.\.\.,9\)' 'strndup\(\.\.\.,100\)'
  capi_check malloc-usable-size 'malloc_usable_size >= requested' 'malloc_usable_size\(NULL\) == 0'
  capi_check realloc-failure 'huge realloc -> NULL' 'huge realloc -> ENOMEM' 'failed realloc keeps block'
fi

if begin cxx/new-delete/same-as-plain; then
  same_as_plain "$BIN/cxx" ok
  grep -q '^cxx ok ' "$O" || bad "no 'cxx ok' line"
  finish
fi

# ------------------------------------------------------------------ options

if begin c/log-path-pid; then
  xrun "mode=neutralize:log_path=$OUT/logs/cg.%p.log" "$BIN/cbugs" pid-double
  pid=$(sed -n 's/^pid=\([0-9]*\)$/\1/p' "$O")
  check_outcome neutralize c
  if [ -z "$pid" ]; then
    bad "program printed no pid"
  else
    lf=$OUT/logs/cg.$pid.log
    if [ ! -f "$lf" ]; then
      bad "no log file $lf (have: $(ls "$OUT/logs" | paste -sd' '))"
    else
      show "$lf" "log file"
      perm=$(stat -c %a "$lf")
      [ "$perm" != 600 ] && bad "log file mode $perm, expected 600"
      check_text_reports "$lf" double-free 1
      grep -q "^==$pid==ERROR: cgoguard:" "$lf" || bad "report header does not carry pid $pid"
    fi
    [ "$(nreports "$E")" -ne 0 ] && bad "report also went to stderr"
  fi
  finish
fi

# check_log_file PID FILE LABEL: FILE exists (for a known PID) and holds
# exactly one double-free report; returns 1 when it is missing.
check_log_file() {
  if [ -z "$1" ] || [ ! -f "$2" ]; then
    bad "no $3 ($2)"
    return 1
  fi
  show "$2" "$3"
  check_text_reports "$2" double-free 1
}

if begin c/log-path-abort; then
  xrun "log_path=$OUT/logs/abort.%p.log" "$BIN/cbugs" pid-double
  pid=$(sed -n 's/^pid=\([0-9]*\)$/\1/p' "$O")
  check_outcome abort c
  check_log_file "$pid" "$OUT/logs/abort.$pid.log" "log file"
  finish
fi

if begin c/log-path-fork; then
  rm -f "$OUT"/logs/fork.*.log
  xrun "mode=neutralize:log_path=$OUT/logs/fork.%p.log" "$BIN/cbugs" fork-double
  check_outcome neutralize c
  ppid=$(sed -n 's/^parent=\([0-9]*\)$/\1/p' "$O")
  cpid=$(sed -n 's/^child=\([0-9]*\)$/\1/p' "$O")
  grep -q '^child survived$' "$O" || bad "the child did not survive"
  grep -q '^child status 0$' "$O" || bad "the child did not exit 0"
  for who in parent:$ppid child:$cpid; do
    p=${who#*:}
    lf=$OUT/logs/fork.$p.log
    if check_log_file "$p" "$lf" "${who%%:*} log file"; then
      grep -q "^==$p==ERROR: cgoguard:" "$lf" || bad "${who%%:*} log does not carry pid $p"
    fi
  done
  [ "$(nreports "$E")" -ne 0 ] && bad "report(s) on stderr"
  finish
fi

if begin c/closed-stderr; then
  xrun "mode=neutralize" "$BIN/cbugs" closed-stderr-double
  check_text_reports "$E" double-free 1
  check_outcome neutralize c
  finish
fi

if begin c/json/abort; then
  xrun "log_format=json" "$BIN/cbugs" pid-double
  pid=$(sed -n 's/^pid=\([0-9]*\)$/\1/p' "$O")
  check_json "$E" --count 1 --kind double-free --mode abort --sites --pid "${pid:-0}"
  check_outcome abort c
  finish
fi

if begin c/json/log-file; then
  xrun "mode=neutralize:log_format=json:log_path=$OUT/logs/json.%p.log" "$BIN/cbugs" five-doubles
  check_outcome neutralize c
  lf=$(ls "$OUT"/logs/json.*.log 2>/dev/null | head -n 1)
  if [ -z "$lf" ]; then
    bad "no json log file"
  else
    show "$lf" "log file"
    check_json "$lf" --count 5 --kind double-free --mode neutralize --sites
    # nothing but report lines in the file
    others=$(grep -c -v '^{' "$lf")
    [ "$others" -ne 0 ] && bad "$others non-JSON line(s) in the json log file"
  fi
  finish
fi

if begin c/max-reports-2; then
  xrun "mode=neutralize:max_reports=2" "$BIN/cbugs" five-doubles
  check_text_reports "$E" double-free 2
  check_outcome neutralize c
  finish
fi
if begin c/max-reports-unlimited; then
  xrun "mode=neutralize" "$BIN/cbugs" five-doubles
  check_text_reports "$E" double-free 5
  check_outcome neutralize c
  finish
fi
if begin c/max-reports-2/json; then
  xrun "mode=neutralize:max_reports=2:log_format=json" "$BIN/cbugs" five-doubles
  check_json "$E" --count 2 --kind double-free --mode neutralize --sites
  check_outcome neutralize c
  finish
fi

if begin c/mode-neutralise-spelling; then
  xrun "mode=neutralise" "$BIN/cbugs" double
  check_text_reports "$E" double-free 1
  check_outcome neutralize c
  grep -q '^cgoguard: ' "$E" && bad "a warning line for mode=neutralise"
  finish
fi

if begin c/stack-depth-1; then
  xrun "mode=neutralize:stack_depth=1" "$BIN/cbugs" double
  check_text_reports "$E" double-free 1
  check_outcome neutralize c
  grep -q '^    #1 ' "$E" && bad "a #1 frame with stack_depth=1"
  grep -q '^cgoguard: ' "$E" && bad "a warning line for stack_depth=1"
  finish
fi

if begin c/valid-options-quiet; then
  prun "$BIN/cbugs" ok
  cp "$O" "$OUT/run/ok.plain.out"
  xrun "mode=abort:log_path=stderr:log_format=text:quarantine_mb=16:stack_depth=8:max_reports=10:verbosity=0" \
    "$BIN/cbugs" ok
  [ "$RC" -ne 0 ] && bad "exit status $RC"
  cmp -s "$O" "$OUT/run/ok.plain.out" || bad "stdout differs from the run without the shim"
  [ -s "$E" ] && bad "stderr is not empty"
  finish
fi

# option_warning NAME OPTIONS WORD...: a correct program runs normally and
# stderr holds exactly one line, starting "cgoguard: ", containing each WORD.
option_warning() {
  local name=$1 opts=$2
  shift 2
  if begin "options/$name"; then
    prun "$BIN/cbugs" ok
    cp "$O" "$OUT/run/ok.plain.out"
    xrun "$opts" "$BIN/cbugs" ok
    [ "$RC" -ne 0 ] && bad "exit status $RC"
    cmp -s "$O" "$OUT/run/ok.plain.out" || bad "stdout differs from the run without the shim"
    local lines
    lines=$(wc -l <"$E")
    [ "$lines" -ne 1 ] && bad "$lines line(s) on stderr, expected 1"
    head -n 1 "$E" | grep -q '^cgoguard: ' || bad "stderr line does not start with 'cgoguard: '"
    local w
    for w in "$@"; do
      head -n 1 "$E" | grep -q -F -- "$w" || bad "stderr line does not name '$w'"
    done
    finish
  fi
}
option_warning unknown-key "bogus_key=1" bogus_key mode log_path
option_warning bad-mode "mode=explode" mode explode abort neutralize
option_warning bad-log-format "log_format=xml" log_format xml text json
option_warning bad-quarantine "quarantine_mb=lots" quarantine_mb lots
option_warning negative-quarantine "quarantine_mb=-5" quarantine_mb -5
option_warning bad-stack-depth "stack_depth=0" stack_depth 0
option_warning huge-stack-depth "stack_depth=100000" stack_depth 100000
option_warning bad-max-reports "max_reports=many" max_reports many
option_warning bad-verbosity "verbosity=loud" verbosity loud
option_warning no-equals "modeabort" modeabort

# option_still_applies NAME OPTIONS MODE: one warning line, and the double
# free is still handled in MODE (a bad value keeps the default, an unknown
# key leaves the other options in effect).
option_still_applies() {
  begin "options/$1" || return 0
  xrun "$2" "$BIN/cbugs" double
  check_text_reports "$E" double-free 1
  check_outcome "$3" c
  [ "$(grep -c '^cgoguard: ' "$E")" -ne 1 ] && bad "expected one 'cgoguard: ' warning line"
  finish
}
option_still_applies bad-mode-keeps-abort "mode=explode" abort
option_still_applies unknown-key-keeps-others "bogus_key=1:mode=neutralize" neutralize

# ------------------------------------------------------------- cgo programs

bug_tests go/cstring-double-free go double-free - "$BIN/gobugs" cstring-double
bug_tests go/free-go-pointer go invalid-free go "$BIN/gobugs" go-pointer
bug_tests go/free-c-literal go invalid-free readonly "$BIN/gobugs" literal
bug_tests go/double-free-after-reuse go double-free - "$BIN/gobugs" reuse

if begin go/cstring-double-free/abort-gotraceback-crash; then
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  { timeout -s KILL "$TIMEOUT" env GOTRACEBACK=crash LD_PRELOAD="$SHIM" CGOGUARD_OPTIONS= \
    "$BIN/gobugs" cstring-double >"$O" 2>"$E" </dev/null; } 2>/dev/null
  RC=$?
  show "$O" stdout
  show "$E" stderr
  check_text_reports "$E" double-free 1
  [ "$RC" -ne 134 ] && bad "exit status $RC, expected 134 (GOTRACEBACK=crash: death by SIGABRT)"
  s=$(lineof "$E" '^SUMMARY: cgoguard:')
  a=$(lineof "$E" '^SIGABRT: abort')
  { [ "$a" -eq 0 ] || [ "$a" -le "$s" ]; } && bad "no 'SIGABRT: abort' dump after the report"
  finish
fi

if begin go/goroutines-cstring/same-as-plain; then
  same_as_plain "$BIN/gook" goroutines
  [ "$RC" -ne 0 ] && bad "exit status $RC"
  grep -q '^done$' "$O" || bad "no 'done' line"
  finish
fi
if begin go/malloc-realloc-calloc/same-as-plain; then
  same_as_plain "$BIN/gook" mallocs
  [ "$RC" -ne 0 ] && bad "exit status $RC"
  grep -q '^calloc sum 0$' "$O" || bad "calloc memory not zeroed"
  grep -q '^done$' "$O" || bad "no 'done' line"
  finish
fi

# ---------------------------------------------------------- system programs

if begin sys/ls; then
  same_as_plain ls -la /usr /usr/include
  finish
fi
if begin sys/sort; then
  seq 1 20000 | awk '{ print ($1 * 7919) % 10007, "line", $1 }' >"$OUT/run/sort.in"
  IN=$OUT/run/sort.in
  same_as_plain sort -k1,1n -k3,3nr
  IN=/dev/null
  finish
fi
if begin sys/python3; then
  same_as_plain python3 -c '
import hashlib, json, collections
d = collections.Counter(str(i * i % 97) for i in range(100000))
s = json.dumps(sorted(d.items()))
print(len(s), hashlib.sha256(s.encode()).hexdigest())
print(sorted({i: [i] * (i % 5) for i in range(2000)}.items())[-1])
'
  finish
fi
if begin sys/git; then
  same_as_plain git --version
  rootc=$(git -C "$ROOT" rev-list --max-parents=0 HEAD 2>/dev/null | head -n 1)
  if [ -n "$rootc" ]; then
    same_as_plain git -C "$ROOT" show --stat --format='%H %an %s' "$rootc"
  fi
  finish
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
