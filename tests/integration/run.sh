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
# shellcheck source=harness.sh
. "$HERE/harness.sh"
suite_setup itest 60 "run logs" "build-logs"
SRC=$HERE

# ------------------------------------------------------------------ running

# (xrun and prun: harness.sh)

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
same_as_plain() { same_as_plain_opts - "$@"; }
# same_as_plain_opts OPTIONS CMD...: the same, with CGOGUARD_OPTIONS=OPTIONS.
same_as_plain_opts() {
  local opts=$1
  shift
  prun "$@"
  local po=$OUT/run/$RUNID.plain.out prc=$RC
  mv "$O" "$po"
  show "$po" "stdout without the shim"
  xrun "$opts" "$@"
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

spawn cbugs gcc "${CFLAGS[@]}" "$SRC/c/cbugs.c" "$SRC/c/helpers.c" -o "$BIN/cbugs"
spawn capi gcc "${CFLAGS[@]}" "$SRC/c/capi.c" "$SRC/c/helpers.c" -o "$BIN/capi"
spawn heapmix gcc "${CFLAGS[@]}" -pthread "$SRC/c/heapmix.c" -o "$BIN/heapmix" -ldl
spawn cstats gcc "${CFLAGS[@]}" "$SRC/c/cstats.c" "$SRC/c/helpers.c" -o "$BIN/cstats"
spawn cthreads gcc "${CFLAGS[@]}" -pthread "$SRC/c/cthreads.c" "$SRC/c/helpers.c" -o "$BIN/cthreads"
spawn heldthreads gcc "${CFLAGS[@]}" -pthread "$SRC/c/heldthreads.c" -o "$BIN/heldthreads"
spawn cxx g++ -O0 -g -fno-builtin -Wall -std=c++17 "$SRC/c/cxx.cpp" -o "$BIN/cxx"
spawn gobugs sh -c "cd '$SRC/go/bugs' && go build -o '$BIN/gobugs' ."
spawn gook sh -c "cd '$SRC/go/ok' && go build -o '$BIN/gook' ."
spawn demo sh -c "cd '$ROOT/tests/demo' && go build -o '$BIN/demo' ."
spawn strbugs gcc "${CFLAGS[@]}" -pthread "$SRC/c/strbugs.c" "$SRC/c/helpers.c" -o "$BIN/strbugs"
# the same cases built as a hardened distribution builds them: the compiler
# emits __strcpy_chk, __memcpy_chk, __sprintf_chk ... (=3 also for sizes
# only known at run time)
for lvl in 2 3; do
  spawn strfort$lvl gcc -O2 -g -D_FORTIFY_SOURCE=$lvl -pthread -Wall -Wno-free-nonheap-object \
    -Wno-stringop-overflow -Wno-stringop-truncation -Wno-array-bounds -I"$SRC/c" \
    "$SRC/c/strbugs.c" "$SRC/c/helpers.c" -o "$BIN/strfort$lvl"
done
# Go cannot pass -fno-builtin in #cgo lines: without it gcc may inline or
# fold the libc calls of the preamble
spawn gostrbugs sh -c "cd '$SRC/go/strbugs' && CGO_CFLAGS='-O0 -g -fno-builtin' go build -o '$BIN/gostrbugs' ."
wait_builds

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
  xrun "mode=neutralize:dedup=0" "$BIN/cbugs" double-variety
  check_text_reports "$E" double-free 5
  check_outcome neutralize c
  finish
fi
if begin c/double-free-variety/json; then
  xrun "mode=neutralize:dedup=0:log_format=json" "$BIN/cbugs" double-variety
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
  xrun "mode=neutralize:dedup=0:max_reports=100000" "$BIN/cthreads"
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
  xrun "mode=neutralize:dedup=0:max_reports=100000:log_format=json" "$BIN/cthreads"
  check_json "$E" --count 1000 --kind double-free --mode neutralize --sites
  check_outcome neutralize c
  finish
fi

# ------------------------------------------------- the malloc family's API

# every way of getting, resizing and freeing a block, each block's pattern
# checked: a block handed back to jemalloc under a wrong size class would be
# handed out again over a live one (quarantine_mb=0: at once) or, under a
# smaller class than its own, out of its class ("classes": sallocx checks,
# which a guarded block would not survive); also with sampled blocks on
# guarded pages, and under the faults shim, where every CAS after a grow in
# place loses (as when a migration moves the entry right then)
heapmix_run() { # NAME OPTIONS ARGS...
  local name=$1 opts=$2
  shift 2
  if begin "c/heapmix/$name"; then
    same_as_plain_opts "$opts" "$BIN/heapmix" "$@"
    grep -q ' 0 corrupt, 0 misaligned, 0 of the wrong size class' "$O" ||
      bad "heapmix found broken blocks"
    finish
  fi
}
heapmix_run quarantine-64 quarantine_mb=64 classes
heapmix_run quarantine-0 quarantine_mb=0 classes
heapmix_run guarded guard_sample=20:quarantine_mb=0
SHIM=$ROOT/build/faults/libcgoguard.so heapmix_run grow-cas-lost quarantine_mb=0 classes

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
  xrun "mode=neutralize:dedup=0:log_format=json:log_path=$OUT/logs/json.%p.log" "$BIN/cbugs" five-doubles
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
  xrun "mode=neutralize:dedup=0:max_reports=2" "$BIN/cbugs" five-doubles
  check_text_reports "$E" double-free 2
  check_outcome neutralize c
  finish
fi
if begin c/max-reports-unlimited; then
  xrun "mode=neutralize:dedup=0" "$BIN/cbugs" five-doubles
  check_text_reports "$E" double-free 5
  check_outcome neutralize c
  finish
fi
if begin c/max-reports-2/json; then
  xrun "mode=neutralize:dedup=0:max_reports=2:log_format=json" "$BIN/cbugs" five-doubles
  check_json "$E" --count 2 --kind double-free --mode neutralize --sites
  check_outcome neutralize c
  finish
fi

# The same bug five times at one place: reported once, counted at exit.
if begin c/dedup/text; then
  xrun "mode=neutralize" "$BIN/cbugs" five-doubles
  check_text_reports "$E" double-free 1
  check_outcome neutralize c
  grep -q -E '^==[0-9]+==cgoguard: double-free signature [0-9a-f]{16} was seen 5 times \(reported once\)$' "$E" ||
    bad "no 'double-free signature ... was seen 5 times' line at exit"
  sig=$(sed -n 's/^signature: \([0-9a-f]\{16\}\)$/\1/p' "$E" | head -n 1)
  [ -n "$sig" ] || bad "the report has no 'signature: <16 hex digits>' line"
  grep -q "signature $sig was seen" "$E" || bad "the exit count names another signature"
  # the same bug in another process (another load address): same signature
  xrun "mode=neutralize" "$BIN/cbugs" five-doubles
  sig2=$(sed -n 's/^signature: \([0-9a-f]\{16\}\)$/\1/p' "$E" | head -n 1)
  [ "$sig" = "$sig2" ] || bad "signature differs between two runs ($sig, $sig2)"
  finish
fi
if begin go/dedup/repeats-at-exit; then
  xrun "mode=neutralize" "$BIN/gobugs" double-loop
  check_text_reports "$E" double-free 1
  check_outcome neutralize go
  grep -q -E '^==[0-9]+==cgoguard: double-free signature [0-9a-f]{16} was seen 5 times \(reported once\)$' "$E" ||
    bad "no 'seen 5 times' line at a Go program's exit"
  finish
fi
if begin go/dedup/os-exit-status-kept; then
  xrun "mode=neutralize" "$BIN/gobugs" nosuchcase
  [ "$RC" -ne 64 ] && bad "exit status $RC, expected the program's own 64 through the exit hook"
  finish
fi
if begin c/dedup/json; then
  xrun "mode=neutralize:log_format=json" "$BIN/cbugs" five-doubles
  check_json "$E" --count 1 --kind double-free --mode neutralize --sites --repeats 5
  check_outcome neutralize c
  finish
fi
if begin c/dedup/other-site-other-signature; then
  xrun "mode=neutralize" "$BIN/cbugs" five-doubles
  sig=$(sed -n 's/^signature: \([0-9a-f]\{16\}\)$/\1/p' "$E" | head -n 1)
  xrun "mode=neutralize" "$BIN/cbugs" double
  sig2=$(sed -n 's/^signature: \([0-9a-f]\{16\}\)$/\1/p' "$E" | head -n 1)
  { [ -z "$sig" ] || [ "$sig" = "$sig2" ]; } && bad "double frees at two call sites share signature '$sig'"
  finish
fi
if begin c/dedup/abort-mode-unaffected; then
  xrun "mode=abort" "$BIN/cbugs" five-doubles
  check_text_reports "$E" double-free 1
  check_outcome abort c
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

# go_callers FILE FUNC...: the first report's stack names FUNC... in order.
go_callers() {
  local f=$1 h s body prev=0 fn ln
  shift
  h=$(lineof "$f" 'ERROR: cgoguard:')
  s=$(lineof "$f" '^(block|SUMMARY)')
  body=$(sed -n "${h},${s}p" "$f" | grep -E '^    #[0-9]+ ')
  for fn in "$@"; do
    ln=$(grep -n -m1 -E " in ${fn}(\.abi0)?\+0x" <<<"$body" | cut -d: -f1)
    if [ -z "$ln" ]; then
      bad "the stack does not name $fn"
    elif [ "$ln" -le "$prev" ]; then
      bad "$fn is not below the frames named before it"
    else
      prev=$ln
    fi
  done
}

for c in nested-double goroutine-double; do
  bug_tests go/$c go double-free - "$BIN/gobugs" $c
  if begin go/$c/go-frames; then
    xrun "mode=neutralize" "$BIN/gobugs" $c
    go_callers "$E" 'main\._Cfunc_free' 'main\.innerRelease' 'main\.outerRelease' 'main\.nestedDouble'
    [ $c = nested-double ] && go_callers "$E" 'main\.nestedDouble' 'main\.main' 'runtime\.main'
    [ $c = goroutine-double ] && go_callers "$E" 'main\.nestedDouble' 'main\.goroutineDouble\.func1'
    finish
  fi
  if begin go/$c/go-frames-json; then
    xrun "mode=neutralize:log_format=json" "$BIN/gobugs" $c
    python3 - "$E" <<'PY' || bad "JSON stack lacks the Go callers in order"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
names = [f["function"] or "" for f in r["stack"]]
want = ["main.innerRelease", "main.outerRelease", "main.nestedDouble"]
pos = [names.index(w) for w in want]
sys.exit(0 if pos == sorted(pos) else 1)
PY
    finish
  fi
done

# ------------------------------------------------------------ alloc_stacks

# section FILE TITLE-REGEX: the frames under the first report's TITLE line.
section() {
  awk -v t="$2" 'found && !/^    #/ { exit } found { print } $0 ~ t { found = 1 }' "$1"
}

if begin go/alloc-stacks/whole-stacks; then
  xrun "mode=neutralize:alloc_stacks=1" "$BIN/gobugs" nested-double
  check_text_reports "$E" double-free 1
  a=$(section "$E" '^block allocated at:')
  f=$(section "$E" '^block freed by thread')
  grep -q ' in main\._Cfunc_CString+' <<<"$a" || bad "allocation stack lacks main._Cfunc_CString"
  grep -q ' in main\.nestedDouble+' <<<"$a" || bad "allocation stack lacks main.nestedDouble (the Go caller of C.CString)"
  grep -q ' in main\.innerRelease+' <<<"$f" || bad "free stack lacks main.innerRelease"
  grep -q ' in main\.outerRelease+' <<<"$f" || bad "free stack lacks main.outerRelease"
  finish
fi
if begin go/alloc-stacks/stack-depth; then
  xrun "mode=neutralize:alloc_stacks=1:stack_depth=3" "$BIN/gobugs" nested-double
  n=$(section "$E" '^block allocated at:' | wc -l)
  [ "$n" -eq 3 ] || bad "$n allocation frames with stack_depth=3"
  finish
fi
if begin c/leak/alloc-stacks; then
  xrun "leak_report=1:alloc_stacks=1" "$BIN/cbugs" leak
  check_text_reports "$E" leak 2
  grep -q -E '^    #1 .* in make_item\+' "$E" || bad "the leaked blocks' stacks do not name make_item"
  finish
fi

if begin c/symbolize/static-function-named; then
  xrun "mode=neutralize" "$BIN/cbugs" double
  grep -q -E '^    #[0-9]+ 0x[0-9a-f]+ in case_double\+0x[0-9a-f]+ \(' "$E" ||
    bad "the static function case_double is not named (from the module's .symtab)"
  finish
fi
if begin c/symbolize/off; then
  xrun "mode=neutralize:symbolize=0" "$BIN/cbugs" double
  check_text_reports "$E" double-free 1
  grep -q -E '^    #[0-9]+ 0x[0-9a-f]+ in ' "$E" && bad "a frame has a function name with symbolize=0"
  finish
fi

# ------------------------------------------------------------------ faults

if begin c/fault/literal-store-explained; then
  xrun - "$BIN/cbugs" literal-store
  check_text_reports "$E" readonly-write 1
  [ "$RC" -ne 139 ] && bad "exit status $RC, expected 139 (the SIGSEGV's default action, as without the shim)"
  grep -q 'the signal was handed on' "$E" || bad "the report does not say the signal was handed on"
  grep -q -E '^    #0 0x[0-9a-f]+ in case_literal_store\+' "$E" || bad "frame #0 is not the faulting function"
  finish
fi
if begin c/fault/null-store-not-ours; then
  prun "$BIN/cbugs" null-store
  prc=$RC
  xrun - "$BIN/cbugs" null-store
  [ "$RC" -ne "$prc" ] && bad "exit status $RC under the shim, $prc without"
  [ "$(nreports "$E")" -ne 0 ] && bad "a report for a fault that is not about tracked memory"
  finish
fi
if begin c/fault/sent-segv-still-kills; then
  xrun - "$BIN/cbugs" raise-segv
  [ "$RC" -ne 139 ] && bad "exit status $RC, expected 139 (a sent SIGSEGV's default action)"
  [ "$(nreports "$E")" -ne 0 ] && bad "a report for a sent signal"
  finish
fi
if begin c/fault/poison-pointer-explained; then
  xrun - "$BIN/cbugs" poison-deref
  check_text_reports "$E" use-after-free 1
  grep -q 'a pointer read from a freed block' "$E" || bad "the report does not explain the 0xf5 pointer"
  [ "$RC" -ne 139 ] && bad "exit status $RC, expected 139"
  finish
fi
if begin c/fault/read-past-block-explained; then
  xrun - "$BIN/cbugs" read-past-end
  check_text_reports "$E" heap-overread 1
  grep -q -E 'is 0 bytes past the end of a live 1048576-byte block' "$E" ||
    bad "the report does not name the block the read ran past"
  grep -A1 '^block allocated at:' "$E" | grep -q '^    #0 ' || bad "no allocation site"
  [ "$RC" -ne 139 ] && bad "exit status $RC, expected 139"
  finish
fi
if begin c/fault/program-handler-still-runs; then
  xrun - "$BIN/cbugs" literal-store-handled
  check_text_reports "$E" readonly-write 1
  [ "$RC" -ne 7 ] && bad "exit status $RC, expected 7 from the program's own handler"
  grep -q '^program handler ran$' "$O" || bad "the program's SIGSEGV handler did not run"
  finish
fi
if begin c/fault/explain-off; then
  xrun "explain_faults=0" "$BIN/cbugs" literal-store
  [ "$(nreports "$E")" -ne 0 ] && bad "a report with explain_faults=0"
  [ "$RC" -ne 139 ] && bad "exit status $RC, expected 139"
  finish
fi
if begin go/fault/literal-store-explained; then
  xrun - "$BIN/gobugs" literal-store
  check_text_reports "$E" readonly-write 1
  [ "$RC" -ne 2 ] && bad "exit status $RC, expected 2 (Go's crash after the SIGSEGV)"
  s=$(lineof "$E" '^SUMMARY: cgoguard:')
  g=$(lineof "$E" '^\[?signal SIGSEGV')
  { [ "$g" -eq 0 ] || [ "$g" -le "$s" ]; } && bad "Go's 'signal SIGSEGV' traceback does not follow the report"
  grep -q 'main\.main' "$E" || bad "Go's traceback lacks main.main"
  go_callers "$E" '_cgo_[0-9a-f]+_Cfunc_store_literal' 'main\.main'
  finish
fi
if begin go/fault/nil-panics-recovered-same-as-plain; then
  same_as_plain "$BIN/gook" recover-nil
  grep -q '^recovered 100$' "$O" || bad "not every nil dereference was recovered"
  finish
fi
if begin go/fault/null-store-not-ours; then
  prun "$BIN/gobugs" null-store
  prc=$RC
  xrun - "$BIN/gobugs" null-store
  [ "$RC" -ne "$prc" ] && bad "exit status $RC under the shim, $prc without"
  [ "$(nreports "$E")" -ne 0 ] && bad "a report for a fault that is not about tracked memory"
  grep -q -E '^\[?signal SIGSEGV: segmentation violation' "$E" || bad "Go's 'signal SIGSEGV' line is missing"
  finish
fi

# ---------------------------------------------------------- go test -exec

# supp NAME TEXT: writes a suppressions file, sets SUPP to its path.
supp() {
  SUPP=$OUT/logs/$1.supp
  printf '%s\n' "$2" >"$SUPP"
  show "$SUPP" "suppressions file"
}
# supp_used FILE PATTERN COUNT: the exit summary says PATTERN matched COUNT times.
supp_used() {
  grep -q -F -- "==cgoguard: suppression '$2' (" "$1" &&
    grep -F -- "==cgoguard: suppression '$2' (" "$1" | grep -q -E " matched $3 times?$" ||
    bad "no exit summary line saying '$2' matched $3 time(s)"
}

# gotest FLAGS OPTIONS ARGS...: `go test -exec scripts/cgoguard-exec` in the
# gotest package, with CGOGUARD_EXEC_FLAGS=FLAGS and CGOGUARD_OPTIONS=OPTIONS.
gotest() {
  local flags=$1 opts=$2
  shift 2
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  show "$O" "go test output"
  (cd "$SRC/go/gotest" && timeout -s KILL "$TIMEOUT" env -u LD_PRELOAD CGOGUARD_EXEC_FLAGS="$flags" \
     CGOGUARD_OPTIONS="$opts" go test -count=1 -exec "$ROOT/scripts/cgoguard-exec" "$@" . \
     >"$O" 2>&1 </dev/null)
  RC=$?
}

if begin gotest/clean-passes; then
  gotest "" "" -run TestClean -v
  [ "$RC" -ne 0 ] && bad "go test exit status $RC for a clean test"
  grep -q -- '--- PASS: TestClean' "$O" || bad "TestClean did not pass"
  [ "$(nreports "$O")" -ne 0 ] && bad "a report for a clean test"
  finish
fi
if begin gotest/bug-fails-the-test; then
  gotest "" "" -run TestDoubleFree
  [ "$RC" -eq 0 ] && bad "go test passed although the test binary double-freed"
  check_text_reports "$O" double-free 1
  grep -q '^SIGABRT: abort' "$O" || bad "no goroutine dump in the test output"
  grep -q '^FAIL' "$O" || bad "go test did not say FAIL"
  finish
fi
if begin gotest/exec-flags-neutralize; then
  # go test strips the test binary's symbol table unless told not to
  gotest "--mode=neutralize --alloc-stacks" "" -ldflags=-s=false -run TestDoubleFree -v
  [ "$RC" -ne 0 ] && bad "go test exit status $RC with --mode=neutralize"
  check_text_reports "$O" double-free 1
  grep -q -E ' in ([^ ]*/)?gotest\.FreeTwice\+' "$O" || bad "the report does not name the Go function gotest.FreeTwice"
  grep -q -- '--- PASS: TestDoubleFree' "$O" || bad "the neutralized test did not pass"
  finish
fi
if begin gotest/neutralize-error-exitcode-suppressions; then
  # every bug of the run reported, and the run still fails
  gotest "--mode=neutralize --error-exitcode=1" "" -ldflags=-s=false -run TestDoubleFree -v
  [ "$RC" -eq 0 ] && bad "go test passed with --error-exitcode=1 after a double free"
  check_text_reports "$O" double-free 1
  grep -q -- '--- PASS: TestDoubleFree' "$O" || bad "the neutralized test itself did not pass"
  # the same bug listed as known: quiet and green
  supp gotest "double-free:gotest.FreeTwice"
  gotest "--mode=neutralize --error-exitcode=1 --suppressions=$SUPP" "" -ldflags=-s=false -run TestDoubleFree -v
  [ "$RC" -ne 0 ] && bad "go test exit status $RC with the bug suppressed"
  [ "$(nreports "$O")" -ne 0 ] && bad "a report for a suppressed bug"
  grep -q "suppression 'double-free:gotest.FreeTwice'" "$O" || bad "no suppression summary in the test output"
  finish
fi
if begin gotest/stripped-binary-says-exit-work-is-off; then
  # without -ldflags=-s=false there is no runtime.exit to hook: said once
  gotest "--mode=neutralize --error-exitcode=1" "" -run TestDoubleFree -v
  check_text_reports "$O" double-free 1
  grep -q 'cgoguard: exit-time work (leak report, leak_exitcode, error_exitcode, .*add -ldflags=-s=false): runtime.exit not found' "$O" ||
    bad "no line saying error_exitcode is off for the stripped test binary"
  finish
fi
if begin gotest/only-the-test-binary-preloaded; then
  gotest "" "verbosity=1" -run TestClean -v
  n=$(grep -c 'cgoguard .*: active' "$O")
  [ "$n" -ne 1 ] && bad "$n cgoguard start-up lines, expected 1 (the test binary only, not the go tool)"
  finish
fi

# ------------------------------------------------------------ staging pod
# The demo launched the way a Kubernetes pod would: the library copied into
# an image's /usr/local/lib/cgoguard (here: under $OUT/pod), nothing but the
# container's environment, JSON reports to a mounted volume.

if begin pod/env-only-json-volume; then
  rm -rf "$OUT/pod"
  mkdir -p "$OUT/pod/usr/local/lib/cgoguard" "$OUT/pod/var/log/cgoguard"
  cp "$SHIM" "$OUT/pod/usr/local/lib/cgoguard/libcgoguard.so"
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  show "$O" stdout
  show "$E" stderr
  { timeout -s KILL "$TIMEOUT" env -i PATH=/usr/bin:/bin \
      LD_PRELOAD=$OUT/pod/usr/local/lib/cgoguard/libcgoguard.so \
      CGOGUARD_OPTIONS="mode=neutralize:log_format=json:log_path=$OUT/pod/var/log/cgoguard/%p.json" \
      "$BIN/demo" >"$O" 2>"$E"; } 2>/dev/null
  RC=$?
  [ "$RC" -ne 0 ] && bad "exit status $RC in neutralize mode"
  grep -q 'the process survived' "$O" || bad "the demo did not survive"
  lf=$(ls "$OUT"/pod/var/log/cgoguard/*.json 2>/dev/null | head -n 1)
  if [ -z "$lf" ]; then
    bad "no JSON log in the mounted directory"
  else
    show "$lf" "the pod's log"
    python3 - "$lf" <<'PY' || bad "the pod's log is not one JSON report per line of the demo's kinds"
import json, sys
kinds = set()
for line in open(sys.argv[1]):
    kinds.add(json.loads(line).get("kind") or json.loads(line).get("summary"))
want = {"double-free", "invalid-free", "heap-overread", "heap-overflow", "readonly-write",
        "null-pointer", "use-after-free", "stack-buffer-overflow"}
sys.exit(0 if want <= kinds else f"kinds {sorted(kinds)}")
PY
  fi
  grep -q 'ERROR: cgoguard' "$E" && bad "a report went to stderr instead of the volume"
  finish
fi
if begin pod/switch-mode-without-rebuild; then
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  show "$E" stderr
  { timeout -s KILL "$TIMEOUT" env -i PATH=/usr/bin:/bin \
      LD_PRELOAD=$OUT/pod/usr/local/lib/cgoguard/libcgoguard.so \
      CGOGUARD_OPTIONS="mode=abort" "$BIN/demo" double-free >"$O" 2>"$E"; } 2>/dev/null
  RC=$?
  [ "$RC" -ne 2 ] && bad "exit status $RC with mode=abort, expected 2 (Go after SIGABRT)"
  check_text_reports "$E" double-free 1
  finish
fi

# ------------------------------------------------------------------ leaks

# leak_text FILE COUNT BLOCKS BYTES: COUNT leak reports, the first of BLOCKS
# blocks and BYTES bytes.
leak_text() {
  check_text_reports "$1" leak "$2"
  [ "$2" -eq 0 ] && return 0
  grep -q -E "^$4 bytes in $3 blocks? still allocated at exit" "$1" ||
    bad "no '$4 bytes in $3 block(s) still allocated at exit' line"
}

if begin go/leak/cstring-keys; then
  xrun "leak_report=1" "$BIN/gobugs" leak-keys
  [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0"
  leak_text "$E" 1 10 60
  grep -q -E '^    #0 .* in _cgo_[0-9a-f]+_Cfunc__Cmalloc\+' "$E" || bad "the allocation site is not C.CString's malloc"
  finish
fi
if begin go/leak/json-exitcode; then
  xrun "leak_report=1:leak_exitcode=23:log_format=json" "$BIN/gobugs" leak-keys
  [ "$RC" -ne 23 ] && bad "exit status $RC, expected 23 (leak_exitcode)"
  check_json "$E" --count 1 --kind leak --mode abort --size 60
  python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); sys.exit(r.get("blocks")!=10)' "$E" ||
    bad "JSON leak report lacks \"blocks\":10"
  finish
fi
if begin go/leak/off-by-default; then
  xrun - "$BIN/gobugs" leak-keys
  [ "$(nreports "$E")" -ne 0 ] && bad "a leak report without leak_report=1"
  finish
fi
for c in goroutines mallocs; do
  if begin go/leak/correct-$c-quiet; then
    xrun "leak_report=1:leak_exitcode=23" "$BIN/gook" $c
    [ "$RC" -ne 0 ] && bad "exit status $RC for a correct program"
    [ "$(nreports "$E")" -ne 0 ] && bad "$(nreports "$E") report(s) for a correct program"
    finish
  fi
done
if begin c/leak/report; then
  xrun "leak_report=1" "$BIN/cbugs" leak
  [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0"
  check_text_reports "$E" leak 2
  grep -q -E '^96 bytes in 3 blocks still allocated at exit' "$E" || bad "no '96 bytes in 3 blocks' report"
  grep -q -E '^5 bytes in 1 block still allocated at exit' "$E" || bad "no '5 bytes in 1 block' report"
  # largest first
  [ "$(lineof "$E" '^96 bytes')" -lt "$(lineof "$E" '^5 bytes')" ] || bad "not largest first"
  # the default site is malloc's caller (here the test's h_malloc wrapper)
  grep -q -E '^    #0 .* in h_malloc\+' "$E" || bad "the 3 blocks are not attributed to h_malloc"
  finish
fi
if begin c/leak/exitcode-keeps-output; then
  xrun "leak_report=1:leak_exitcode=9" "$BIN/cbugs" leak
  [ "$RC" -ne 9 ] && bad "exit status $RC, expected 9 (leak_exitcode)"
  grep -q '^survived$' "$O" || bad "stdout lost its last line"
  finish
fi
if begin c/leak/correct-quiet; then
  xrun "leak_report=1:leak_exitcode=9" "$BIN/cbugs" ok
  [ "$RC" -ne 0 ] && bad "exit status $RC for a correct program"
  [ "$(nreports "$E")" -ne 0 ] && bad "$(nreports "$E") report(s) for a correct program"
  finish
fi

# ------------------------------------------------------------------ stats

# check_prom FILE: the file is Prometheus text exposition format with the
# documented metrics; prints nothing when fine.
check_prom() {
  python3 - "$1" <<'PY' || bad "stats file: $(python3 - "$1" <<'PY2' 2>&1
PY2
)"
import re, sys
text = open(sys.argv[1]).read()
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
sample = re.compile(rf"^({name})(\{{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\]*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\]*\")*\}})? [0-9]+$")
types, seen = {}, set()
for n, line in enumerate(text.splitlines(), 1):
    if line.startswith("# HELP "):
        continue
    m = re.match(rf"^# TYPE ({name}) (counter|gauge)$", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    m = sample.match(line)
    if not m or m.group(1) not in types:
        sys.exit(f"line {n} is not a sample of a declared metric: {line!r}")
    seen.add(m.group(1))
want = {"cgoguard_errors_total", "cgoguard_live_blocks", "cgoguard_live_bytes",
        "cgoguard_quarantine_blocks", "cgoguard_quarantine_bytes", "cgoguard_allocations_total"}
if want - seen:
    sys.exit(f"missing metrics {sorted(want - seen)}")
if not text.endswith("\n"):
    sys.exit("no final newline")
PY
}

# prom_value FILE SAMPLE: the value of one sample line.
prom_value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

if begin stats/c-at-exit; then
  rm -f "$OUT"/logs/stats.*
  xrun "mode=neutralize:stats_path=$OUT/logs/stats.%p.prom" "$BIN/cbugs" leak
  sf=$(ls "$OUT"/logs/stats.*.prom 2>/dev/null | head -n 1)
  if [ -z "$sf" ]; then
    bad "no stats file written at exit"
  else
    show "$sf" "stats file"
    check_prom "$sf"
    [ "$(prom_value "$sf" cgoguard_live_blocks)" -ge 4 ] 2>/dev/null || bad "live blocks < 4 (3 leaked + strdup)"
    [ "$(prom_value "$sf" 'cgoguard_errors_total{kind="double-free"}')" = 0 ] || bad "double-free count not 0"
    ls "$OUT"/logs/stats.*.tmp >/dev/null 2>&1 && bad "a .tmp file was left behind"
  fi
  finish
fi
if begin stats/go-sigusr2; then
  rm -f "$OUT"/logs/gstats.*
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  show "$O" stdout
  show "$E" stderr
  env LD_PRELOAD="$SHIM" CGOGUARD_OPTIONS="stats_path=$OUT/logs/gstats.prom" \
    "$BIN/gobugs" sleep >"$O" 2>"$E" &
  gpid=$!
  for _ in $(seq 50); do grep -q '^ready$' "$O" && break; sleep 0.05; done
  kill -USR2 "$gpid" 2>/dev/null
  for _ in $(seq 40); do [ -f "$OUT/logs/gstats.prom" ] && break; sleep 0.025; done
  if [ -f "$OUT/logs/gstats.prom" ] && kill -0 "$gpid" 2>/dev/null; then
    cp "$OUT/logs/gstats.prom" "$OUT/logs/gstats.during"
    show "$OUT/logs/gstats.during" "stats written on SIGUSR2"
    check_prom "$OUT/logs/gstats.during"
    [ "$(prom_value "$OUT/logs/gstats.during" cgoguard_live_blocks)" -ge 3 ] 2>/dev/null ||
      bad "live blocks < 3 while three C strings were held"
  else
    bad "no stats file while the program ran (SIGUSR2)"
  fi
  wait "$gpid"
  RC=$?
  [ "$RC" -ne 0 ] && bad "exit status $RC after SIGUSR2 (the signal must not kill a Go program)"
  grep -q '^survived$' "$O" || bad "no 'survived' line"
  finish
fi
if begin stats/api; then
  xrun "mode=neutralize" "$BIN/cstats"
  [ "$RC" -ne 0 ] && bad "exit status $RC"
  grep -q '^live blocks +10$' "$O" || bad "live blocks did not grow by 10"
  grep -q '^live bytes +1000$' "$O" || bad "live bytes did not grow by 1000"
  grep -q '^allocations +11$' "$O" || bad "allocations did not grow by 11"
  grep -q '^quarantined blocks >= 1: yes$' "$O" || bad "no quarantined block counted"
  grep -q '^double frees 1$' "$O" || bad "the double free is not counted"
  grep -q '^double frees counted 1, suppressed 0$' "$O" || bad "cgoguard_error_count/cgoguard_suppressed_count wrong"
  grep -q '^bad size: -1$' "$O" || bad "a short size is not refused"
  prun "$BIN/cstats"
  grep -q '^no shim$' "$O" || bad "without the shim the weak symbol is not NULL"
  supp cstats "double-free:h_free"
  xrun "suppressions=$SUPP" "$BIN/cstats"
  grep -q '^double frees 0$' "$O" || bad "a suppressed double free is in errors[]"
  grep -q '^double frees counted 0, suppressed 1$' "$O" || bad "the suppressed double free is not counted as suppressed"
  finish
fi

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

# ----------------------------------------------- string and memory checks

# check_header FILE KIND ACCESS FUNC: the first report's header names KIND,
# a READ or WRITE (ACCESS R or W) and the checked call FUNC (a regex).
check_header() {
  local f=$1 kind=$2 acc=$3 func=$4 h
  [ "$acc" = R ] && acc=READ || acc=WRITE
  h=$(grep -m1 'ERROR: cgoguard:' "$f")
  [ -z "$h" ] && return 0
  grep -q -E "^==[0-9]+==ERROR: cgoguard: $kind on address 0x[0-9a-fA-F]+ \($acc( of [0-9]+ bytes?| up to a NUL| through a NULL argument)\) in $func by thread T[0-9]+\$" <<<"$h" ||
    bad "header is not '... $kind on address 0x... ($acc ...) in $func by thread T...': $(cut -c1-160 <<<"$h")"
}

# check_own_checks: a neutralized case's own checks ("ok: ..." lines on
# stdout) all passed and there was at least one.
check_own_checks() {
  local w
  w=$(grep -c '^WRONG' "$O")
  [ "$w" -ne 0 ] && bad "$w check(s) WRONG after the neutralized call: $(grep '^WRONG' "$O" | cut -c8- | paste -sd';' | cut -c1-240)"
  grep -q '^ok: ' "$O" || bad "no 'ok: ...' check after the neutralized call"
}

# str_bug NAME LANG KIND ACCESS FUNC CMD...: a program that makes one bad
# call: in abort mode one report and the death; in neutralize mode one
# report, 'survived' and the program's own checks of what the call did.
str_bug() {
  local name=$1 lang=$2 kind=$3 acc=$4 func=$5
  shift 5
  local mode
  for mode in abort neutralize; do
    if begin "$name/$mode"; then
      xrun "mode=$mode" "$@"
      check_text_reports "$E" "$kind" 1
      check_header "$E" "$kind" "$acc" "$func"
      check_module "$E" "$(basename "$1")"
      [ "$kind" = use-after-free ] && check_sites "$E"
      check_outcome "$mode" "$lang"
      [ "$mode" = neutralize ] && check_own_checks
      finish
    fi
  done
}

# One line per case of c/strbugs.c: case, kind, R/W, the checked call.
STR_CASES=(
  # seeds: no terminator, one byte short, strncpy then strlen, a literal, NULL
  strlen-unterminated heap-overread R strlen
  strcat-prefix-tmp heap-overflow W strcat
  strncpy-then-strlen heap-overread R strlen
  strcpy-literal readonly-write W strcpy
  strlen-null null-pointer R strlen
  strlen-interior heap-overread R strlen
  strlen-freed use-after-free R strlen
  strnlen-unterminated heap-overread R strnlen
  strnlen-freed use-after-free R strnlen
  strnlen-null null-pointer R strnlen
  strcpy-overflow heap-overflow W strcpy
  strcpy-unterminated-src heap-overread R strcpy
  strcpy-freed-dest use-after-free W strcpy
  strcpy-freed-src use-after-free R strcpy
  strcpy-null-dest null-pointer W strcpy
  strcpy-null-src null-pointer R strcpy
  strcpy-stack stack-buffer-overflow W strcpy
  stpcpy-overflow heap-overflow W stpcpy
  stpcpy-unterminated-src heap-overread R stpcpy
  stpcpy-null-src null-pointer R stpcpy
  strncpy-overflow heap-overflow W strncpy
  strncpy-overflow-long heap-overflow W strncpy
  strncpy-unterminated-src heap-overread R strncpy
  strncpy-freed-dest use-after-free W strncpy
  strncpy-literal readonly-write W strncpy
  strncpy-null null-pointer W strncpy
  stpncpy-overflow heap-overflow W stpncpy
  stpncpy-overflow-short heap-overflow W stpncpy
  stpncpy-unterminated-src heap-overread R stpncpy
  strcat-unterminated-dest heap-overread R strcat
  strcat-unterminated-src heap-overread R strcat
  strcat-freed-dest use-after-free R strcat
  strcat-null null-pointer R strcat
  strcat-literal readonly-write W strcat
  strcat-stack stack-buffer-overflow W strcat
  strncat-overflow heap-overflow W strncat
  strncat-unterminated-src heap-overread R strncat
  memcpy-overflow heap-overflow W memcpy
  memcpy-overread heap-overread R memcpy
  memcpy-interior-overflow heap-overflow W memcpy
  memcpy-freed-dest use-after-free W memcpy
  memcpy-freed-src use-after-free R memcpy
  memcpy-null null-pointer W memcpy
  memcpy-null-src null-pointer R memcpy
  memcpy-literal readonly-write W memcpy
  memcpy-stack stack-buffer-overflow W memcpy
  memmove-overflow heap-overflow W memmove
  memmove-overread heap-overread R memmove
  memmove-null null-pointer R memmove
  memmove-freed-dest use-after-free W memmove
  mempcpy-overflow heap-overflow W mempcpy
  mempcpy-overread heap-overread R mempcpy
  mempcpy-null null-pointer W mempcpy
  memset-overflow heap-overflow W memset
  memset-interior-overflow heap-overflow W memset
  memset-freed use-after-free W memset
  memset-null null-pointer W memset
  memset-literal readonly-write W memset
  memset-readonly-map readonly-write W memset
  memset-new-readonly-map readonly-write W memset
  memset-mprotected readonly-write W memset
  memcmp-overread heap-overread R memcmp
  memcmp-overread-b heap-overread R memcmp
  memcmp-null null-pointer R memcmp
  memcmp-freed use-after-free R memcmp
  strcmp-overread heap-overread R strcmp
  strcmp-overread-b heap-overread R strcmp
  strcmp-null null-pointer R strcmp
  strcmp-freed use-after-free R strcmp
  strncmp-overread heap-overread R strncmp
  strncmp-null null-pointer R strncmp
  strncmp-freed use-after-free R strncmp
  strchr-overread heap-overread R strchr
  strchr-nul-overread heap-overread R strchr
  strchr-null null-pointer R strchr
  strchr-freed use-after-free R strchr
  strrchr-overread heap-overread R strrchr
  strrchr-null null-pointer R strrchr
  strstr-overread heap-overread R strstr
  strstr-overread-needle heap-overread R strstr
  strstr-null null-pointer R strstr
  strstr-freed use-after-free R strstr
  strdup-overread heap-overread R strdup
  strdup-freed use-after-free R strdup
  strdup-null null-pointer R strdup
  strndup-overread heap-overread R strndup
  strndup-null null-pointer R strndup
  puts-overread heap-overread R puts
  puts-null null-pointer R puts
  puts-freed use-after-free R puts
  fputs-overread heap-overread R fputs
  fputs-null null-pointer R fputs
  printf-overread heap-overread R printf
  printf-precision-overread heap-overread R printf
  printf-second-arg heap-overread R printf
  printf-freed use-after-free R printf
  printf-format-unterminated heap-overread R printf
  printf-null-format null-pointer R printf
  fprintf-overread heap-overread R fprintf
  dprintf-overread heap-overread R dprintf
  vprintf-overread heap-overread R vprintf
  vfprintf-overread heap-overread R vfprintf
  vdprintf-overread heap-overread R vdprintf
  asprintf-overread heap-overread R asprintf
  vasprintf-overread heap-overread R vasprintf
  sprintf-overflow heap-overflow W sprintf
  sprintf-overread heap-overread R sprintf
  sprintf-null null-pointer W sprintf
  sprintf-freed use-after-free W sprintf
  sprintf-literal readonly-write W sprintf
  sprintf-stack stack-buffer-overflow W sprintf
  snprintf-overflow heap-overflow W snprintf
  snprintf-null null-pointer W snprintf
  snprintf-freed use-after-free W snprintf
  vsprintf-overflow heap-overflow W vsprintf
  vsnprintf-overflow heap-overflow W vsnprintf
  # the buffer's frame is the caller's; a thread's stack
  strcpy-stack-callee stack-buffer-overflow W strcpy
  strcpy-stack-thread stack-buffer-overflow W strcpy
  # blocks of other sizes and origins
  memset-large-overflow heap-overflow W memset
  memcpy-large-interior-overflow heap-overflow W memcpy
  strcat-strdup-overflow heap-overflow W strcat
  memset-aligned-overflow heap-overflow W memset
  memset-calloc-overflow heap-overflow W memset
  realloc-shrink-overflow heap-overflow W memset
  # the _FORTIFY_SOURCE entry points, called directly with an object size
  # larger than the block (glibc's own check passes)
  chk-memcpy heap-overflow W __memcpy_chk
  chk-memmove heap-overflow W __memmove_chk
  chk-mempcpy heap-overflow W __mempcpy_chk
  chk-memset heap-overflow W __memset_chk
  chk-strcpy heap-overflow W __strcpy_chk
  chk-stpcpy heap-overflow W __stpcpy_chk
  chk-strncpy heap-overflow W __strncpy_chk
  chk-stpncpy heap-overflow W __stpncpy_chk
  chk-strcat heap-overflow W __strcat_chk
  chk-strncat heap-overflow W __strncat_chk
  chk-sprintf heap-overflow W __sprintf_chk
  chk-snprintf heap-overflow W __snprintf_chk
  chk-vsprintf heap-overflow W __vsprintf_chk
  chk-vsnprintf heap-overflow W __vsnprintf_chk
  chk-printf heap-overread R __printf_chk
  chk-fprintf heap-overread R __fprintf_chk
  chk-vprintf heap-overread R __vprintf_chk
  chk-vfprintf heap-overread R __vfprintf_chk
  chk-dprintf heap-overread R __dprintf_chk
  chk-asprintf heap-overread R __asprintf_chk
)
for ((i = 0; i < ${#STR_CASES[@]}; i += 4)); do
  str_bug "str/${STR_CASES[i]}" c "${STR_CASES[i+1]}" "${STR_CASES[i+2]}" "${STR_CASES[i+3]}" \
    "$BIN/strbugs" "${STR_CASES[i]}"
done

# Built with -O2 -D_FORTIFY_SOURCE=N: the compiler's own _chk calls.  With
# =2 a destination whose size is known only at run time gets no _chk call
# for strcpy/memcpy (the compiler calls the plain function), but sprintf
# still becomes __sprintf_chk; a compile-time size (fort-const-*) gets
# __strcpy_chk and __memcpy_chk, whose object size glibc checks after us.
STR_FORT_CASES=(
  2 fort-strcpy heap-overflow W '(__)?strcpy(_chk)?'
  2 fort-memcpy heap-overflow W '(__)?memcpy(_chk)?'
  2 fort-sprintf heap-overflow W __sprintf_chk
  2 fort-const-strcpy heap-overflow W __strcpy_chk
  2 fort-const-memcpy heap-overflow W __memcpy_chk
  2 fort-const-sprintf heap-overflow W __sprintf_chk
  2 fort-printf heap-overread R __printf_chk
  3 fort-strcpy heap-overflow W __strcpy_chk
  3 fort-memcpy heap-overflow W __memcpy_chk
  3 fort-sprintf heap-overflow W __sprintf_chk
)
for ((i = 0; i < ${#STR_FORT_CASES[@]}; i += 5)); do
  lvl=${STR_FORT_CASES[i]}
  str_bug "str/fortify$lvl/${STR_FORT_CASES[i+1]#fort-}" c "${STR_FORT_CASES[i+2]}" \
    "${STR_FORT_CASES[i+3]}" "${STR_FORT_CASES[i+4]}" "$BIN/strfort$lvl" "${STR_FORT_CASES[i+1]}"
done
for lvl in 2 3; do
  if begin "str/fortify$lvl/ok/same-as-plain"; then
    same_as_plain "$BIN/strfort$lvl" fort-ok
    [ "$RC" -ne 0 ] && bad "exit status $RC"
    grep -q '^fortified build!' "$O" || bad "no 'fortified build!' line"
    finish
  fi
done

# mode=abort stops the call before it writes past the block: a SIGABRT
# handler looks at the canary bytes right after it
for c in strcpy-overflow stpcpy-overflow strncpy-overflow strcat-prefix-tmp strncat-overflow \
  memcpy-overflow memmove-overflow memset-overflow sprintf-overflow snprintf-overflow \
  vsnprintf-overflow chk-strcpy chk-memcpy chk-sprintf; do
  if begin "str/$c/abort-before-write"; then
    xrun "mode=abort" "$BIN/strbugs" "$c" catch-abort
    check_text_reports "$E" heap-overflow 1
    check_outcome abort c
    grep -q '^at abort: canary intact$' "$O" ||
      bad "at the abort the bytes after the block were not intact: $(grep '^at abort' "$O")"
    finish
  fi
done

# the reports' details, in JSON: str_json NAME CASE CHECKJSON-ARGS...
str_json() {
  local name=$1 which=$2 prog=$BIN/strbugs lang=c
  shift 2
  case $name in go/*) prog=$BIN/gostrbugs lang=go ;; esac
  if begin "$name/json"; then
    xrun "mode=neutralize:log_format=json" "$prog" "$which"
    check_json "$E" --count 1 --mode neutralize "$@"
    check_outcome neutralize "$lang"
    finish
  fi
}
str_json str/strlen-unterminated strlen-unterminated --kind heap-overread --function strlen \
  --access read --access-size null --argument 1 --size 13 --offset 0 --action clamped --alloc-site
str_json str/strlen-interior strlen-interior --kind heap-overread --function strlen \
  --access read --access-size null --argument 1 --size 13 --offset 5 --alloc-site
str_json str/strcat-prefix-tmp strcat-prefix-tmp --kind heap-overflow --function strcat \
  --access write --access-size 5 --argument 1 --size 9 --offset 5 --action clamped --alloc-site
str_json str/strcpy-overflow strcpy-overflow --kind heap-overflow --function strcpy \
  --access write --access-size 21 --argument 1 --size 13 --offset 0 --alloc-site
str_json str/memcpy-overread memcpy-overread --kind heap-overread --function memcpy \
  --access read --access-size 20 --argument 2 --size 10 --offset 0
str_json str/memcpy-interior-overflow memcpy-interior-overflow --kind heap-overflow \
  --function memcpy --access write --access-size 12 --argument 1 --size 29 --offset 20
str_json str/memcpy-large-interior-overflow memcpy-large-interior-overflow --kind heap-overflow \
  --function memcpy --access-size 20 --size 100000 --offset 99990 --alloc-site
str_json str/realloc-shrink-overflow realloc-shrink-overflow --kind heap-overflow --function memset \
  --access-size 30 --size 20 --offset 0
str_json str/strlen-freed strlen-freed --kind use-after-free --function strlen --access read \
  --argument 1 --size 24 --offset 0 --sites
str_json str/memset-freed memset-freed --kind use-after-free --function memset --access write \
  --access-size 32 --argument 1 --size 32 --action skipped --sites
str_json str/strcpy-literal strcpy-literal --kind readonly-write --function strcpy --access write \
  --access-size 3 --argument 1 --class readonly --action skipped
str_json str/strlen-null strlen-null --kind null-pointer --function strlen --argument 1
str_json str/strcpy-null-src strcpy-null-src --kind null-pointer --function strcpy --argument 2
str_json str/strcpy-stack strcpy-stack --kind stack-buffer-overflow --function strcpy \
  --access write --access-size 41 --argument 1 --return-slot --action skipped
str_json str/strstr-overread-needle strstr-overread-needle --kind heap-overread --function strstr \
  --argument 2 --size 3
str_json str/printf-second-arg printf-second-arg --kind heap-overread --function printf \
  --access read --argument 4 --size 8
str_json str/printf-format-unterminated printf-format-unterminated --kind heap-overread \
  --function printf --argument 1 --size 8
str_json str/fprintf-overread fprintf-overread --kind heap-overread --function fprintf --argument 3
str_json str/chk-sprintf chk-sprintf --kind heap-overflow --function __sprintf_chk --access write \
  --argument 1 --size 13
str_json str/chk-fprintf chk-fprintf --kind heap-overread --function __fprintf_chk --argument 4

if begin str/strcat-prefix-tmp/description; then
  xrun "mode=neutralize" "$BIN/strbugs" strcat-prefix-tmp
  grep -q -E '^0x[0-9a-f]+ is 5 bytes inside a live 9-byte block at 0x[0-9a-f]+; the call would write 5 bytes, 1 byte past its end$' "$E" ||
    bad "no line '0x... is 5 bytes inside a live 9-byte block at 0x...; the call would write 5 bytes, 1 byte past its end'"
  finish
fi

# with quarantine_mb=0 a freed address comes back at once with another
# size: judged by the new block's size (50), not the old one's (64)
for mode in abort neutralize; do
  if begin "str/reuse-overflow/$mode"; then
    xrun "mode=$mode:quarantine_mb=0" "$BIN/strbugs" reuse-overflow
    check_text_reports "$E" heap-overflow 1
    check_header "$E" heap-overflow W memset
    check_outcome "$mode" c
    [ "$mode" = neutralize ] && check_own_checks
    finish
  fi
done
if begin str/reuse-overflow/json; then
  xrun "mode=neutralize:quarantine_mb=0:log_format=json" "$BIN/strbugs" reuse-overflow
  check_json "$E" --count 1 --kind heap-overflow --mode neutralize --function memset \
    --access-size 60 --size 50 --offset 0
  check_outcome neutralize c
  grep -q '^same address: yes$' "$O" || bad "(the address did not come back: the test proves less)"
  finish
fi

# correct programs: no report, the same output as without the shim
if begin str/ok/same-as-plain; then
  same_as_plain "$BIN/strbugs" ok
  [ "$RC" -ne 0 ] && bad "exit status $RC"
  grep -q '^sum ' "$O" || bad "the program did not run to its end (no 'sum' line)"
  finish
fi
if begin str/edge-quiet; then
  xrun - "$BIN/strbugs" edge-quiet
  n=$(nreports "$E")
  [ "$n" -ne 0 ] && bad "$n report(s) for calls that stay inside their blocks"
  [ "$RC" -ne 0 ] && bad "exit status $RC"
  check_own_checks
  finish
fi
for q in 64 0; do
  if begin "str/threads-ok/quarantine-$q"; then
    xrun "quarantine_mb=$q" "$BIN/strbugs" threads-ok
    n=$(nreports "$E")
    [ "$n" -ne 0 ] && bad "$n report(s) for correct calls in threads"
    [ "$RC" -ne 0 ] && bad "exit status $RC"
    check_own_checks
    finish
  fi
done
if begin str/dlerror-then-stdio/same-as-plain; then
  same_as_plain "$BIN/strbugs" dlerror-stdio
  grep -q 'cgoguard-itest3.so' "$O" || bad "dlerror's message not printed"
  finish
fi

# cgo: the seeds and one case per kind
STR_GO_CASES=(
  strlen-unterminated heap-overread R strlen
  strcat-prefix-tmp heap-overflow W strcat
  strncpy-then-strlen heap-overread R strlen
  strcpy-literal readonly-write W strcpy
  strlen-null null-pointer R strlen
  go-literal readonly-write W strcpy
  strlen-interior heap-overread R strlen
  strlen-freed use-after-free R strlen
  strcpy-stack stack-buffer-overflow W strcpy
  memcpy-overflow heap-overflow W memcpy
  memset-overflow heap-overflow W memset
  sprintf-overflow heap-overflow W sprintf
  printf-overread heap-overread R printf
  puts-freed use-after-free R puts
  strcmp-overread heap-overread R strcmp
  strdup-null null-pointer R strdup
)
for ((i = 0; i < ${#STR_GO_CASES[@]}; i += 4)); do
  str_bug "go/str/${STR_GO_CASES[i]}" go "${STR_GO_CASES[i+1]}" "${STR_GO_CASES[i+2]}" \
    "${STR_GO_CASES[i+3]}" "$BIN/gostrbugs" "${STR_GO_CASES[i]}"
done
str_json go/str/strlen-unterminated strlen-unterminated --kind heap-overread --function strlen \
  --access read --access-size null --argument 1 --size 13 --offset 0 --alloc-site
str_json go/str/strcat-prefix-tmp strcat-prefix-tmp --kind heap-overflow --function strcat \
  --access write --access-size 5 --argument 1 --size 9 --offset 5 --alloc-site
str_json go/str/strlen-freed strlen-freed --kind use-after-free --function strlen --size 23 --sites
if begin go/str/ok/same-as-plain; then
  same_as_plain "$BIN/gostrbugs" ok
  [ "$RC" -ne 0 ] && bad "exit status $RC"
  grep -q '^total ' "$O" || bad "the program did not run to its end (no 'total' line)"
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

# ------------------------------------------------------------ guard_sample
# Direct accesses (no libc call): seen only on sampled blocks, here all of
# them (guard_sample=1).

# guard_case NAME CASE KIND ABORT_STATUS WHAT SITES: both modes of one cbugs
# case; SITES is checkjson's --alloc-site (live block) or --sites (freed).
guard_case() {
  local name=$1 case=$2 kind=$3 abort_rc=$4 what=$5 sites=$6
  if begin "guard/$name/abort"; then
    xrun "guard_sample=1" "$BIN/cbugs" "$case"
    [ "$RC" -ne "$abort_rc" ] && bad "exit status $RC, expected $abort_rc"
    check_text_reports "$E" "$kind" 1
    # frame #0: the function that made the access (#1 when found by free)
    grep -q -E "^    #[01] 0x[0-9a-f]+ in case_${case//-/_}\+" "$E" ||
      bad "the function that made the access is not frame #0 or #1"
    grep -q -- "$what" "$E" || bad "the description lacks '$what'"
    grep -q '^survived$' "$O" && bad "survived in abort mode"
    finish
  fi
  if begin "guard/$name/neutralize"; then
    xrun "guard_sample=1:mode=neutralize:log_format=json" "$BIN/cbugs" "$case"
    [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0 (the access let through)"
    check_json "$E" --count 1 --kind "$kind" --mode neutralize --action continued "$sites"
    grep -q '^survived$' "$O" || bad "no 'survived' line"
    finish
  fi
}
guard_case store-past-end direct-store-past-end heap-overflow 139 \
  "the faulting instruction would write 1 byte, 1 byte past its end" --alloc-site
guard_case store-in-slack direct-store-slack heap-overflow 134 \
  "a write had reached 1 byte past its end; found when the block was freed" --alloc-site
guard_case read-freed direct-read-freed use-after-free 139 "inside a freed 40-byte block at" --sites
guard_case read-far-past-end direct-read-far heap-overread 139 \
  "200 bytes past the end of a live 64-byte block" --alloc-site

if begin guard/read-freed-sees-poison; then
  xrun "guard_sample=1:mode=neutralize" "$BIN/cbugs" direct-read-freed
  grep -q '^read after free: -11$' "$O" || bad "the let-through read did not see the 0xf5 fill"
  grep -q 'block freed by thread' "$E" || bad "no free site"
  finish
fi
if begin guard/off-by-default; then
  xrun - "$BIN/cbugs" direct-store-past-end
  [ "$RC" -ne 0 ] && bad "exit status $RC: without guard_sample a direct overflow is not seen"
  [ "$(nreports "$E")" -ne 0 ] && bad "a report without guard_sample"
  finish
fi
if begin guard/go-reads-freed-c-memory; then
  # Go code reading C memory through unsafe after C.free: the README's
  # "cannot see", seen on sampled blocks
  xrun "guard_sample=1" "$BIN/gobugs" go-read-freed
  [ "$RC" -ne 2 ] && bad "exit status $RC, expected 2 (Go's fault traceback)"
  check_text_reports "$E" use-after-free 1
  grep -q -E '^    #0 0x[0-9a-f]+ in main\.readFirst\+' "$E" || bad "frame #0 is not the Go function main.readFirst"
  grep -q -E '^    #1 0x[0-9a-f]+ in main\.(goReadFreed|main)\+' "$E" || bad "frame #1 is not the Go caller"
  grep -q 'unexpected fault address' "$E" || bad "Go's handler did not get the fault after the report"
  xrun "guard_sample=1:mode=neutralize" "$BIN/gobugs" go-read-freed
  [ "$RC" -ne 0 ] && bad "neutralize: exit status $RC, expected 0"
  grep -q '^go read after free: 245$' "$O" || bad "neutralize: the read did not go on (and see the 0xf5 fill)"
  grep -q '^survived$' "$O" || bad "neutralize: no 'survived' line"
  finish
fi
if begin guard/underflow-is-the-block-above; then
  xrun "guard_sample=1:mode=neutralize" "$BIN/cbugs" direct-underflow
  [ "$RC" -ne 0 ] && bad "exit status $RC"
  check_text_reports "$E" heap-overread 1
  grep -q 'is 4033 bytes before the start of a live 64-byte block' "$E" ||
    bad "the underflow is not described as 4033 bytes before the 64-byte block"
  finish
fi
if begin guard/threads-fault-at-once-neutralize; then
  xrun "guard_sample=1:mode=neutralize:dedup=0:max_reports=100000" "$BIN/cbugs" direct-threads
  [ "$RC" -ne 0 ] && bad "exit status $RC: a thread's fault was handed on while another's was explained"
  grep -q '^survived$' "$O" || bad "no 'survived' line"
  n=$(nreports "$E")
  [ "$n" -ge 8 ] || bad "$n reports, expected one per overflow that found a sampled block (at least 8)"
  finish
fi
if begin guard/string-call-on-freed-sampled-block; then
  # the check itself must not read the closed page: reported as the call's
  xrun "guard_sample=1" "$BIN/cbugs" strlen-freed-sampled
  check_text_reports "$E" use-after-free 1
  check_header "$E" use-after-free R strlen
  [ "$RC" -ne 134 ] && bad "exit status $RC, expected 134 (abort)"
  xrun "guard_sample=1:mode=neutralize" "$BIN/cbugs" strlen-freed-sampled
  check_text_reports "$E" use-after-free 1
  check_header "$E" use-after-free R strlen
  grep -q '^strlen of the freed block: 0$' "$O" || bad "neutralized strlen of a freed sampled block is not 0"
  check_outcome neutralize c
  finish
fi
if begin guard/needs-explain-faults; then
  xrun "guard_sample=1:explain_faults=0" "$BIN/cbugs" direct-store-past-end
  grep -q -x "cgoguard: guard_sample needs explain_faults=1 (the shim's SIGSEGV handler); guard_sample is off" "$E" ||
    bad "no line saying guard_sample is off without explain_faults"
  [ "$RC" -ne 0 ] && bad "exit status $RC: guard_sample should be off (nothing sampled, no fault)"
  finish
fi
for n in 1 10; do
  if begin guard/correct-programs-quiet-$n; then
    xrun "guard_sample=$n:leak_report=1" "$BIN/gook" goroutines
    [ "$RC" -ne 0 ] && bad "gook: exit status $RC"
    [ -s "$E" ] && bad "gook: stderr is not empty"
    finish
  fi
  if begin guard/racing-double-frees-$n; then
    xrun "guard_sample=$n:mode=neutralize:dedup=0:max_reports=100000" "$BIN/cthreads"
    check_text_reports "$E" double-free 1000 # racing frees of sampled blocks: one report each
    finish
  fi
  if begin guard/system-programs-same-$n; then
    same_as_plain_opts "guard_sample=$n" python3 -c '
import json, hashlib
d = {str(i): [i] * (i % 7) for i in range(30000)}
print(hashlib.sha256(json.dumps(d).encode()).hexdigest())'
    same_as_plain_opts "guard_sample=$n" ls -la /usr/lib
    finish
  fi
done

# ---------------------------------------------------------- error_exitcode

if begin exitcode/c-neutralize-errors; then
  xrun "mode=neutralize:error_exitcode=7" "$BIN/cbugs" five-doubles
  [ "$RC" -ne 7 ] && bad "exit status $RC, expected 7 (error_exitcode after neutralised errors)"
  check_text_reports "$E" double-free 1 # one place: reported once, then counted
  grep -q 'was seen 5 times' "$E" || bad "no 'was seen 5 times' line"
  grep -q '^survived$' "$O" || bad "the program did not run to its end"
  xrun "mode=neutralize" "$BIN/cbugs" five-doubles
  [ "$RC" -ne 0 ] && bad "exit status $RC without error_exitcode, expected the program's 0"
  finish
fi
if begin exitcode/go-neutralize-errors; then
  xrun "mode=neutralize:error_exitcode=7" "$BIN/gobugs" nested-double
  [ "$RC" -ne 7 ] && bad "exit status $RC, expected 7 (error_exitcode, through runtime.exit)"
  check_text_reports "$E" double-free 1
  grep -q '^survived$' "$O" || bad "the Go program did not run to its end"
  finish
fi
if begin exitcode/correct-and-leaks-do-not-count; then
  xrun "mode=neutralize:error_exitcode=7" "$BIN/gook" goroutines
  [ "$RC" -ne 0 ] && bad "exit status $RC for a correct program"
  xrun "mode=neutralize:error_exitcode=7:leak_report=1" "$BIN/cbugs" leak
  [ "$RC" -ne 0 ] && bad "exit status $RC: leaks are leak_exitcode's, not error_exitcode's"
  check_text_reports "$E" leak 2
  finish
fi

# ------------------------------------------------------------ suppressions

if begin suppress/c-double-free-by-function; then
  supp c-fn "# a known bug in a vendored helper
double-free:^h_free\$"
  xrun "suppressions=$SUPP" "$BIN/cbugs" double
  [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0 (suppressed: neutralised, not aborted)"
  [ "$(nreports "$E")" -ne 0 ] && bad "$(nreports "$E") report(s) for a suppressed bug"
  grep -q '^survived$' "$O" || bad "the program did not run on"
  supp_used "$E" 'double-free:^h_free$' 1
  finish
fi
if begin suppress/c-other-kind-still-reported; then
  supp c-kind "heap-overflow:h_free
leak:h_free"
  xrun "suppressions=$SUPP" "$BIN/cbugs" double
  [ "$RC" -ne 134 ] && bad "exit status $RC, expected 134 (abort): the rules are for other kinds"
  check_text_reports "$E" double-free 1
  grep -q "==cgoguard: suppression" "$E" && bad "a summary line for rules that never matched"
  finish
fi
if begin suppress/c-by-module-neutralize-loop; then
  supp c-mod "*:cbugs"
  xrun "mode=neutralize:suppressions=$SUPP" "$BIN/cbugs" five-doubles
  [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0"
  [ "$(nreports "$E")" -ne 0 ] && bad "$(nreports "$E") report(s) for suppressed bugs"
  supp_used "$E" '*:cbugs' 5
  finish
fi
if begin suppress/c-leak-and-exitcode; then
  supp c-leak "leak:^h_malloc\$"
  xrun "leak_report=1:leak_exitcode=9:suppressions=$SUPP" "$BIN/cbugs" leak
  [ "$RC" -ne 9 ] && bad "exit status $RC, expected 9 (one leak is not suppressed)"
  check_text_reports "$E" leak 1
  grep -q -E '^5 bytes in 1 block still allocated at exit' "$E" || bad "the unsuppressed 5-byte leak is not reported"
  supp_used "$E" 'leak:^h_malloc$' 1
  supp c-leak2 "leak:^h_malloc\$
leak:case_leak"
  xrun "leak_report=1:leak_exitcode=9:suppressions=$SUPP" "$BIN/cbugs" leak
  [ "$RC" -ne 0 ] && bad "exit status $RC with every leak suppressed, expected 0"
  [ "$(nreports "$E")" -ne 0 ] && bad "$(nreports "$E") report(s) with every leak suppressed"
  finish
fi
if begin suppress/go-frame-double-free; then
  # a Go function two calls above C.free names the bug
  supp go-fn "double-free:^main.outerRelease\$"
  xrun "suppressions=$SUPP" "$BIN/gobugs" nested-double
  [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0"
  [ "$(nreports "$E")" -ne 0 ] && bad "$(nreports "$E") report(s) for a suppressed bug"
  grep -q '^survived$' "$O" || bad "the Go program did not run on"
  supp_used "$E" 'double-free:^main.outerRelease$' 1
  finish
fi
if begin suppress/go-leak-json-stats; then
  # a Go caller is on the allocation stack with alloc_stacks=1 (without
  # it, the site is malloc's caller only: C.CString's _Cfunc__Cmalloc)
  supp go-leak "leak:main.remember"
  rm -f "$OUT"/logs/supp-stats.prom
  xrun "alloc_stacks=1:leak_report=1:leak_exitcode=23:log_format=json:stats_path=$OUT/logs/supp-stats.prom:suppressions=$SUPP" \
    "$BIN/gobugs" leak-keys
  [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0 (the only leak is suppressed)"
  check_json "$E" --count 0 --kind leak --mode abort
  python3 - "$E" "$SUPP" <<'PY' || bad "no JSON suppressions summary with count 1 for leak:main.remember"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
s = [o for o in objs if o.get("summary") == "suppressions"]
ok = len(s) == 1 and s[0]["kind"] == "leak" and s[0]["pattern"] == "main.remember" \
    and s[0]["count"] == 1 and s[0]["file"] == sys.argv[2] and s[0]["line"] == 1
sys.exit(0 if ok else 1)
PY
  if [ -f "$OUT/logs/supp-stats.prom" ]; then
    show "$OUT/logs/supp-stats.prom" "stats file"
    [ "$(prom_value "$OUT/logs/supp-stats.prom" 'cgoguard_suppressed_total{kind="leak"}')" = 1 ] ||
      bad "cgoguard_suppressed_total{kind=\"leak\"} is not 1"
    [ "$(prom_value "$OUT/logs/supp-stats.prom" 'cgoguard_errors_total{kind="leak"}')" = 0 ] ||
      bad "a suppressed leak counted in cgoguard_errors_total"
  else
    bad "no stats file"
  fi
  finish
fi
# a suppressed string or memory bug is neutralised even in abort mode: the
# program's own checks of what the call did (canary bytes after the block
# intact, the clamped result) pass
for c in strcpy-overflow strlen-unterminated memcpy-overflow; do
  if begin suppress/str-$c-abort-mode-neutralised; then
    supp "str-$c" "*:strbugs"
    xrun "mode=abort:suppressions=$SUPP" "$BIN/strbugs" "$c"
    [ "$(nreports "$E")" -ne 0 ] && bad "$(nreports "$E") report(s) for a suppressed bug"
    check_outcome neutralize c
    check_own_checks
    supp_used "$E" '*:strbugs' 1
    finish
  fi
done

if begin suppress/fault-still-handed-on; then
  # an explained fault's report is left out; the SIGSEGV goes on as before
  supp fault "readonly-write:case_literal_store"
  xrun "suppressions=$SUPP" "$BIN/cbugs" literal-store
  [ "$RC" -ne 139 ] && bad "exit status $RC, expected 139 (the SIGSEGV, as without the shim)"
  [ "$(nreports "$E")" -ne 0 ] && bad "$(nreports "$E") report(s) for a suppressed fault"
  finish
fi
if begin suppress/error-exitcode-not-for-suppressed; then
  supp exitcode "double-free:h_free"
  xrun "mode=neutralize:error_exitcode=7:suppressions=$SUPP" "$BIN/cbugs" five-doubles
  [ "$RC" -ne 0 ] && bad "exit status $RC: suppressed errors set error_exitcode"
  supp_used "$E" 'double-free:h_free' 5
  finish
fi
if begin suppress/long-pattern-summary-stays-json; then
  long=$(printf '%0300d' 0 | tr 0 '*')
  supp long "double-free:${long}h_free"
  xrun "mode=neutralize:log_format=json:suppressions=$SUPP" "$BIN/cbugs" double
  [ "$RC" -ne 0 ] && bad "exit status $RC, expected 0"
  python3 - "$E" <<'PY' || bad "the suppressions summary of a 306-byte pattern is not one whole JSON object with its count"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
s = [o for o in s if o.get("summary") == "suppressions"]
sys.exit(0 if len(s) == 1 and s[0]["count"] == 1 and s[0]["pattern"].endswith("...")
         and len(s[0]["pattern"]) == 203 else 1)
PY
  finish
fi
if begin suppress/symbolize-0-still-names-functions; then
  supp sym0 "double-free:^h_free\$"
  xrun "symbolize=0:suppressions=$SUPP" "$BIN/cbugs" double
  [ "$RC" -ne 0 ] && bad "exit status $RC: a function rule did not match with symbolize=0"
  [ "$(nreports "$E")" -ne 0 ] && bad "a report for a suppressed bug"
  finish
fi
if begin suppress/bad-file-one-line-each; then
  supp bad "dobule-free:h_free
no colon
double-free:^h_free\$"
  xrun "suppressions=$SUPP" "$BIN/cbugs" double
  grep -q -F "cgoguard: suppressions file '$SUPP' line 1: unknown kind" "$E" || bad "no error naming line 1's kind"
  grep -q -F "cgoguard: suppressions file '$SUPP' line 2: expected kind:pattern, got 'no colon'" "$E" ||
    bad "no error naming line 2"
  [ "$(grep -c 'cgoguard: suppressions file' "$E")" -eq 2 ] || bad "not exactly one line per bad line"
  [ "$RC" -ne 0 ] && bad "exit status $RC: the good rule on line 3 should still apply"
  xrun "suppressions=$OUT/logs/no-such.supp" "$BIN/cbugs" double
  grep -q -x -F "cgoguard: suppressions file '$OUT/logs/no-such.supp': cannot be read: no such file; no suppressions" "$E" ||
    bad "no one-line error naming the missing file"
  [ "$(grep -c 'cgoguard: suppressions file' "$E")" -eq 1 ] || bad "not exactly one line for the missing file"
  [ "$RC" -ne 134 ] && bad "exit status $RC with no usable file, expected 134 (reported, aborted)"
  check_text_reports "$E" double-free 1
  xrun "suppressions=$OUT/logs" "$BIN/cbugs" ok
  grep -q -x -F "cgoguard: suppressions file '$OUT/logs': cannot be read: is a directory; no suppressions" "$E" ||
    bad "no one-line error for a directory given as the file"
  # a trailing comment makes a pattern no name can match: said, not ignored
  supp blank "double-free:h_free  # FOO-1"
  xrun "suppressions=$SUPP:verbosity=1" "$BIN/cbugs" ok
  grep -q -F "line 1: a pattern cannot hold blanks" "$E" || bad "no error for a pattern with a trailing comment"
  grep -q -F "cgoguard: suppressions file '$SUPP': rules read: 0" "$E" || bad "verbosity=1 does not say how many rules were read"
  finish
fi
if begin suppress/correct-program-same-output; then
  supp ok "*:cbugs"
  xrun "suppressions=$SUPP:leak_report=1" "$BIN/cbugs" ok
  [ "$RC" -ne 0 ] && bad "exit status $RC for a correct program"
  [ -s "$E" ] && bad "stderr is not empty for a correct program with suppressions"
  finish
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
