#!/usr/bin/env bash
# cgoguard-repro test: builds a C program that fails on a chosen run
# (tests/integration/repro/flaky.c, counting its runs in a file named by
# $REPRO_COUNTER) and the gotest package's test binary (`go test -c` of
# tests/integration/go/gotest), runs scripts/cgoguard-repro on them and checks
# where it stops, the saved folder (every file, text and JSON report,
# file:line, goroutine dump), crashes with and without --until-report, -j,
# -o overrides, the progress line, and usage errors.  One line per test,
# "PASS name" or "FAIL name: reason" (followed by the files involved,
# indented), then "N passed, N failed".  Exit status is nonzero when
# anything failed.
#
#   bash tests/integration/repro.sh     from the repo root
#   ROOT=...  SHIM=...                  override the repo / the shim
#   ITEST_FILTER=regex                  run only tests whose name matches
#   ITEST_TIMEOUT=seconds               per cgoguard-repro run (default 120)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
suite_setup reprotest 120 "run tmp" "bin build-logs"
REPRO=$ROOT/scripts/cgoguard-repro

# ------------------------------------------------------------------ running

RUNID=0
RC=0
O= # cgoguard-repro's stdout
E= # its stderr
T= # a fresh directory for this test: cwd of the run, counter, out dir
CTR=

# fresh: a new directory $T (the run's cwd) with a counter file $CTR
fresh() {
  RUNID=$((RUNID + 1))
  T=$OUT/run/$RUNID
  mkdir -p "$T/tmp"
  CTR=$T/counter
  O=$T/repro.out
  E=$T/repro.err
}

# repro [ENV=VALUE...] -- ARGS...: runs cgoguard-repro ARGS in $T with the
# shim, a clean environment for it and TMPDIR=$T/tmp; sets RC, $O and $E.
repro() {
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  show "$O" "cgoguard-repro stdout"
  show "$E" "cgoguard-repro stderr"
  (cd "$T" && timeout -s KILL "$TIMEOUT" env -u GOTRACEBACK -u CGOGUARD_OPTIONS -u LD_PRELOAD \
    CGOGUARD_LIB="$SHIM" TMPDIR="$T/tmp" REPRO_COUNTER="$CTR" "${envs[@]}" \
    "$REPRO" "$@" >"$O" 2>"$E" </dev/null)
  RC=$?
  [ "$RC" -eq 137 ] && bad "killed (timeout ${TIMEOUT}s?)"
  [ -z "$(ls -A "$T/tmp")" ] || bad "its temporary files were left in TMPDIR"
  return 0
}

count() { cat "$CTR" 2>/dev/null || echo 0; }
expect_rc() { [ "$RC" -eq "$1" ] || bad "exit status $RC (want $1)"; }
expect_count() { [ "$(count)" -eq "$1" ] || bad "the program ran $(count) times (want $1)"; }
has() { grep -q -E -- "$2" "$1" || bad "${3:-$(basename "$1") lacks /$2/}"; }
# no_folder: no cgoguard-repro-* folder in $T
no_folder() {
  local left
  left=$(cd "$T" && ls -d cgoguard-repro-* 2>/dev/null)
  [ -z "$left" ] || bad "folder left behind: $left"
}
# saved_dir: the folder named by "saved in DIR/" on stdout
saved_dir() { sed -n 's|^cgoguard-repro: saved in \(.*\)/$|\1|p' "$O" | tail -n 1; }
# json_kind FILE: the kind of the first object in FILE; every line must be
# one JSON object (the file of one abort-mode report is one JSON document)
json_kind() {
  python3 - "$1" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l]
if len(lines) == 1:
    json.loads(open(sys.argv[1], encoding="utf-8").read())   # the whole file is valid JSON
objs = [json.loads(l) for l in lines]
print(objs[0]["kind"])
EOF
}

# ----------------------------------------------------------------- building

BIN=$OUT/bin
export GOCACHE="$ROOT/build/gocache" GO111MODULE=off GOFLAGS="" CGO_ENABLED=1
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
build flaky gcc -O0 -g -fno-builtin -Wall -Werror "$HERE/repro/flaky.c" -o "$BIN/flaky"
build gotest.test sh -c "cd '$HERE/go/gotest' && go test -c -o '$BIN/gotest.test' ."

if [ ! -f "$SHIM" ]; then
  begin "shim"
  bad "$SHIM does not exist (run make first)"
  finish
  echo "$npass passed, $nfail failed"
  exit 1
fi

FLAKY=$BIN/flaky
L_SECOND=$(grep -n -m1 'REPRO:second' "$HERE/repro/flaky.c" | cut -d: -f1)
L_MALLOC=$(grep -n -m1 'REPRO:malloc' "$HERE/repro/flaky.c" | cut -d: -f1)

# -------------------------------------------------- a double free on run 3

if begin "c/double-free-on-run-3"; then
  fresh
  repro -- -n 10 --out saved -- "$FLAKY" double-free 3 0 'an arg with spaces'
  D=$T/saved
  show "$D/summary.txt" "summary.txt"
  expect_rc 1
  expect_count 4 # three runs and the JSON rerun of run 3
  [ "$(saved_dir)" = "$D" ] || bad "stdout does not say 'saved in $D/'"
  has "$O" 'run 3 of 10: cgoguard double-free report'
  for f in summary.txt report.txt report.json report.symbolized.txt command.txt env.txt \
    stdout.txt; do
    [ -s "$D/$f" ] || bad "$f missing or empty"
  done
  [ -f "$D/stderr.txt" ] || bad "stderr.txt missing" # empty: the report is in report.txt
  [ -e "$D/goroutines.txt" ] && bad "goroutines.txt for a C program"
  if [ -s "$D/report.txt" ]; then
    has "$D/report.txt" '^==[0-9]+==ERROR: cgoguard: double-free on address'
    has "$D/report.txt" '^action: aborting \(mode=abort\)'
    has "$D/report.txt" '^block allocated at:'
    # alloc_stacks=1: the whole allocation stack, down to main
    grep -A3 '^block allocated at:' "$D/report.txt" | grep -q ' in main+' ||
      bad "the allocation stack does not reach main (alloc_stacks=1?)"
  fi
  if [ -s "$D/report.json" ]; then
    k=$(json_kind "$D/report.json" 2>&1)
    [ "$k" = double-free ] || bad "report.json: kind '$k' (want double-free)"
  fi
  [ -s "$D/report.symbolized.txt" ] &&
    has "$D/report.symbolized.txt" " in release\\+0x[0-9a-f]+ \\(.*\\) at .*/flaky\\.c:[0-9]+\$"
  [ -s "$D/report.symbolized.txt" ] &&
    has "$D/report.symbolized.txt" "at .*/flaky\\.c:$L_SECOND\$" "report.symbolized.txt lacks flaky.c:$L_SECOND"
  [ -s "$D/report.symbolized.txt" ] &&
    has "$D/report.symbolized.txt" "at .*/flaky\\.c:$L_MALLOC\$" "report.symbolized.txt lacks flaky.c:$L_MALLOC"
  want=$(python3 -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' "$FLAKY" double-free 3 0 'an arg with spaces')
  [ "$(head -n 1 "$D/command.txt" 2>/dev/null)" = "$want" ] || bad "command.txt line 1 is not: $want"
  has "$D/env.txt" "^CGOGUARD_OPTIONS='?mode=abort:quarantine_mb=256:[^ ]*alloc_stacks=1"
  has "$D/env.txt" "^LD_PRELOAD=$SHIM\$"
  has "$D/env.txt" '^GOTRACEBACK=all$'
  has "$D/env.txt" '^CGOGUARD_REPRO_RUN=3$'
  has "$D/env.txt" "^REPRO_COUNTER=$CTR\$"
  has "$D/env.txt" '^PATH='
  has "$D/summary.txt" '^run: 3 of 10 '
  has "$D/summary.txt" '^exit: killed by signal 6 \(SIGABRT\)$'
  has "$D/summary.txt" '^result: cgoguard report: double-free$'
  has "$D/summary.txt" '^json: .*reproduced: double-free'
  has "$D/stdout.txt" '^flaky: run 3 \(CGOGUARD_REPRO_RUN=3\)$'
  [ "$(grep -c '^flaky: run' "$D/stdout.txt")" -eq 1 ] || bad "stdout.txt is not run 3's alone"
  # the hand-run line in command.txt reproduces it (the counter says fail)
  hand=$(sed -n 's/^# \(cd .*\)$/\1/p' "$D/command.txt")
  if [ -z "$hand" ]; then
    bad "command.txt has no '# cd ... && env ...' line"
  else
    { (env -u LD_PRELOAD REPRO_COUNTER="$CTR" bash -c "$hand" >"$T/hand.out" 2>"$T/hand.err"); } 2>/dev/null
    show "$T/hand.err" "hand-run stderr"
    has "$T/hand.err" 'ERROR: cgoguard: double-free' "command.txt's hand-run line did not report"
  fi
  finish
fi

# ------------------------------------------- the JSON rerun does not repeat

if begin "c/json-rerun-not-reproduced"; then
  fresh
  repro -- -n 10 --out saved -- "$FLAKY" double-free-once 2
  D=$T/saved
  show "$D/summary.txt" "summary.txt"
  expect_rc 1
  expect_count 3
  has "$D/summary.txt" '^run: 2 of 10 '
  has "$D/summary.txt" '^json: .*did not reproduce \(exit status 0, no report\)'
  has "$O" 'did not reproduce'
  [ -e "$D/report.json" ] && bad "report.json from a rerun without a report"
  for f in report.txt report.symbolized.txt command.txt env.txt stdout.txt; do
    [ -s "$D/$f" ] || bad "$f missing or empty"
  done
  finish
fi

# ---------------------------------------------------------------- all clean

if begin "c/clean"; then
  fresh
  repro -- -n 5 -- "$FLAKY" clean 0
  expect_rc 0
  expect_count 5
  no_folder
  has "$O" '^cgoguard-repro: 5 runs, no cgoguard report, all clean'
  finish
fi

if begin "c/clean-out-dir-removed"; then
  fresh
  repro -- -n 3 --out "$T/new/dir" -- "$FLAKY" clean 0
  expect_rc 0
  [ -e "$T/new/dir" ] && bad "--out folder left behind"
  # an empty folder that was there stays
  mkdir -p "$T/mine"
  repro -- -n 2 --out "$T/mine" -- "$FLAKY" clean 0
  expect_rc 0
  [ -d "$T/mine" ] || bad "a pre-existing empty --out folder was removed"
  finish
fi

# ------------------------------------------------------ crash without report

if begin "c/crash-stops"; then
  fresh
  repro -- -n 5 -- "$FLAKY" segv 2
  D=$(saved_dir)
  expect_rc 1
  expect_count 2
  has "$O" 'run 2 of 5: crash without a cgoguard report, killed by signal 11 \(SIGSEGV\)'
  case $D in "$T"/cgoguard-repro-[0-9]*-[0-9]*) ;; *) bad "default folder '$D' is not ./cgoguard-repro-<timestamp>" ;; esac
  if [ -n "$D" ]; then
    show "$D/summary.txt" "summary.txt"
    has "$D/summary.txt" '^result: crash without a cgoguard report$'
    has "$D/summary.txt" '^exit: killed by signal 11 \(SIGSEGV\)$'
    has "$D/stderr.txt" '^flaky: SIGSEGV now$'
    for f in summary.txt command.txt env.txt stdout.txt; do
      [ -s "$D/$f" ] || bad "$f missing or empty"
    done
    [ -e "$D/report.json" ] && bad "report.json without a report"
  fi
  finish
fi

if begin "c/crash-ignored-until-report"; then
  fresh
  repro -- -n 5 --until-report -- "$FLAKY" segv 2
  expect_rc 0
  expect_count 5
  no_folder
  has "$O" '5 runs, no cgoguard report, 1 failed without a report \(ignored\)'
  finish
fi

if begin "c/report-stops-until-report"; then
  fresh
  repro -- -n 5 --until-report --out saved -- "$FLAKY" double-free 2
  expect_rc 1
  has "$T/saved/summary.txt" '^run: 2 of 5 '
  finish
fi

# ------------------------------------------------------- -o overrides mode

if begin "c/option-override-neutralize"; then
  fresh
  repro -- -n 5 -o mode=neutralize -o quarantine_mb=8 --out saved -- "$FLAKY" double-free 1
  D=$T/saved
  show "$D/summary.txt" "summary.txt"
  expect_rc 1
  has "$D/summary.txt" '^run: 1 of 5 '
  has "$D/summary.txt" '^exit: exit status 0$' # a report stops it although the run passed
  has "$D/report.txt" '^action: .*\(mode=neutralize\)'
  has "$D/env.txt" "^CGOGUARD_OPTIONS='?mode=abort:.*:mode=neutralize:quarantine_mb=8:"
  [ "$(json_kind "$D/report.json" 2>&1)" = double-free ] || bad "report.json kind is not double-free"
  finish
fi

# ------------------------------------------------------------ -j 2, killing

if begin "c/parallel-stops-and-kills"; then
  fresh
  # the run that counts 1 sleeps 30 s; the one that counts 2 double-frees
  start=$(date +%s)
  repro REPRO_PIDS="$T/pids" -- -n 50 -j 2 --out saved -- "$FLAKY" double-free 2 30000
  took=$(($(date +%s) - start))
  D=$T/saved
  show "$D/summary.txt" "summary.txt"
  expect_rc 1
  [ "$took" -lt 20 ] || bad "took ${took}s: the sleeping job was not killed"
  expect_count 3 # two parallel runs and the JSON rerun
  has "$D/summary.txt" '^run: [12] of 50 \(2 started'
  has "$D/summary.txt" '^json: .*reproduced: double-free'
  has "$D/summary.txt" ', 2 at a time\)$'
  while read -r pid; do
    kill -0 "$pid" 2>/dev/null && bad "pid $pid (a job) still runs"
  done <"$T/pids"
  finish
fi

if begin "c/parallel-clean-progress"; then
  fresh
  repro -- -n 20 -j 2 -- "$FLAKY" clean 0
  expect_rc 0
  expect_count 20
  no_folder
  # stderr is not a terminal: one line per 10 runs
  n=$(grep -c -E '^run [0-9]+/20, [0-9]+ jobs?, 0 failures, [0-9]+\.[0-9] s$' "$E")
  [ "$n" -eq 2 ] || bad "$n progress lines for 20 runs (want 2)"
  grep -q $'\r' "$E" && bad "carriage returns on a stderr that is not a terminal"
  finish
fi

if begin "progress/terminal"; then
  fresh
  # script(1) gives the run a terminal: the line is rewritten in place
  (cd "$T" && timeout -s KILL "$TIMEOUT" env -u GOTRACEBACK -u CGOGUARD_OPTIONS -u LD_PRELOAD \
    CGOGUARD_LIB="$SHIM" TMPDIR="$T/tmp" REPRO_COUNTER="$CTR" \
    script -qec "'$REPRO' -n 4 -- '$FLAKY' double-free 4 300" /dev/null >"$O" 2>&1 </dev/null)
  RC=$?
  show "$O" "terminal output"
  expect_rc 1
  grep -q $'\rrun 1/4, 1 job, 0 failures, ' "$O" || bad "no '\\rrun 1/4, 1 job, 0 failures' update"
  tr '\r' '\n' <"$O" | grep -q $'^run 4/4, 0 jobs, 1 failure, [0-9.]* s\e\\[K$' ||
    bad "no final 'run 4/4, 0 jobs, 1 failure' update"
  n=$(tr '\r' '\n' <"$O" | grep -c '^run [0-9]/4')
  [ "$n" -ge 4 ] || bad "only $n progress updates over four 0.3 s runs"
  finish
fi

# --------------------------------------------------------- a Go test binary

GOTEST=$BIN/gotest.test
if begin "go/test-binary-double-free"; then
  fresh
  repro -- -n 3 --out saved -- "$GOTEST" -test.run 'TestDoubleFree$' -test.v
  D=$T/saved
  show "$D/summary.txt" "summary.txt"
  expect_rc 1
  has "$D/summary.txt" '^run: 1 of 3 '
  has "$D/summary.txt" '^exit: exit status 2$'
  for f in summary.txt report.txt report.json report.symbolized.txt command.txt env.txt \
    stdout.txt stderr.txt goroutines.txt; do
    [ -s "$D/$f" ] || bad "$f missing or empty"
  done
  if [ -s "$D/goroutines.txt" ]; then
    show "$D/goroutines.txt" "goroutines.txt"
    [ "$(head -n 1 "$D/goroutines.txt")" = "SIGABRT: abort" ] || bad "goroutines.txt does not start at 'SIGABRT: abort'"
    n=$(grep -c -E '^goroutine [0-9]+ \[' "$D/goroutines.txt")
    [ "$n" -ge 2 ] || bad "$n goroutines in goroutines.txt (GOTRACEBACK=all: want every one)"
    has "$D/goroutines.txt" 'gotest\.FreeTwice'
  fi
  has "$D/stdout.txt" '^=== RUN   TestDoubleFree$'
  has "$D/report.txt" 'ERROR: cgoguard: double-free'
  [ "$(json_kind "$D/report.json" 2>&1)" = double-free ] || bad "report.json kind is not double-free"
  has "$D/report.symbolized.txt" "gotest\\.FreeTwice[.a-z0-9]*\\+0x[0-9a-f]+ \\(.*\\) at .*/cgo\\.go:[0-9]+\$"
  has "$D/command.txt" "-test.run 'TestDoubleFree\\\$' -test.v\$"
  finish
fi

if begin "go/test-binary-clean"; then
  fresh
  repro -- -n 3 -- "$GOTEST" -test.run 'TestClean$'
  expect_rc 0
  no_folder
  finish
fi

# -------------------------------------------------------------- usage errors

if begin "usage"; then
  fresh
  mkdir -p "$T/full" && touch "$T/full/x"
  while IFS='|' read -r why args; do
    eval "set -- $args"
    repro -- "$@"
    [ "$RC" -eq 2 ] || bad "$why: exit status $RC (want 2)"
    [ -s "$E" ] || bad "$why: no message on stderr"
  done <<EOF
no arguments|
no command|-n 3 --
-n 0|-n 0 -- $FLAKY clean 0
-n x|-n x -- $FLAKY clean 0
-n without value|-n
-j 0|-j 0 -- $FLAKY clean 0
unknown option|--frobnicate -- $FLAKY clean 0
-o without =|-o mode -- $FLAKY clean 0
-o log_path|-o log_path=/tmp/x -- $FLAKY clean 0
-o with a colon|-o 'mode=abort:x=1' -- $FLAKY clean 0
--out not empty|--out $T/full -- $FLAKY clean 0
--out a file|--out $T/full/x -- $FLAKY clean 0
missing command|-- $T/no-such-program
EOF
  repro CGOGUARD_LIB="$T/no-such-lib.so" -- -n 1 -- "$FLAKY" clean 0
  [ "$RC" -eq 2 ] || bad "missing shim: exit status $RC (want 2)"
  expect_count 0
  no_folder
  repro -- --help
  [ "$RC" -eq 0 ] || bad "--help: exit status $RC (want 0)"
  has "$O" '--until-report'
  finish
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
