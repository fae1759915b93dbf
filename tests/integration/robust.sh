#!/usr/bin/env bash
# cgoguard robustness suite (issue 5, item 6): what a long-running service
# does to an allocator.  Builds tests/integration/robust/ (a C program with
# one case per argument, a library to dlopen, a C++ program, a cgo program)
# into build/robust/ and runs each case under LD_PRELOAD=$SHIM, with a
# timeout: fork (children keep allocating, with and without exec, each
# with its own log), exec of non-Go children with LD_PRELOAD inherited,
# threads that start and exit by the thousand, dlopen/dlclose of a library
# that allocates, signals arriving inside malloc, a log path that cannot be
# opened, a full disk and a broken pipe, max_reports, out of memory, closed
# descriptors.  One line per test, "PASS name" or "FAIL name: reason"
# (followed by the program's output, indented), then "N passed, N failed".
# Exit status is nonzero when anything failed.
#
#   bash tests/integration/robust.sh        from the repo root
#   ROOT=...  SHIM=...                      override the repo / the shim
#   ITEST_FILTER=regex                      run only tests whose name matches
#   ITEST_TIMEOUT=seconds                   per program run (default 60)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
suite_setup robust 60 "run logs" "bin build-logs"
SRC=$HERE/robust
LOGS=$OUT/logs

# ------------------------------------------------------------------ running

# (xrun and prun: harness.sh)

# nreports FILE: text report headers plus JSON reports in FILE.
nreports() {
  local n
  n=$(grep -c -E 'ERROR: cgoguard:|^\{"kind":' "$1" 2>/dev/null)
  echo "${n:-0}"
}

# want_line FILE REGEX [WHAT]: FILE has a line matching REGEX (grep -E, whole line).
want_line() {
  local what="no line '$2'"
  grep -q -x -E -- "$2" "$1" || bad "${3:-$what}"
}

# want_status N
want_status() {
  [ "$RC" -eq "$1" ] || [ "$RC" -eq 137 ] || bad "exit status $RC, expected $1"
}

# want_reports FILE COUNT [KIND]: COUNT reports in FILE, all of KIND.
want_reports() {
  local n k
  n=$(nreports "$1")
  [ "$n" -eq "$2" ] || bad "$n report(s) in $(basename "$1"), expected $2"
  if [ -n "${3:-}" ] && [ "$n" -gt 0 ]; then
    k=$(grep -c -E "ERROR: cgoguard: $3 |\"kind\":\"$3\"" "$1")
    [ "$k" -eq "$n" ] || bad "$((n - k)) report(s) not $3: $(grep -m1 -o -E 'ERROR: cgoguard: [a-z-]+' "$1")"
    # a complete report: header, frames, SUMMARY
    if grep -q 'ERROR: cgoguard:' "$1"; then
      local s
      s=$(grep -c "^SUMMARY: cgoguard: $3" "$1")
      [ "$s" -eq "$n" ] || bad "$s SUMMARY line(s) for $n report(s)"
    fi
  fi
}

# ----------------------------------------------------------------- building

BIN=$OUT/bin
export GOCACHE="$ROOT/build/gocache" GO111MODULE=off GOFLAGS="" CGO_ENABLED=1
CFLAGS=(-O0 -g -fno-builtin -Wall -Wno-free-nonheap-object -Wno-alloc-size-larger-than -I"$ROOT/include")

spawn robust gcc "${CFLAGS[@]}" -pthread "$SRC/robust.c" -o "$BIN/robust" -ldl
spawn libdl_alloc.so gcc "${CFLAGS[@]}" -fPIC -shared "$SRC/dllib.c" -o "$BIN/libdl_alloc.so"
spawn oomxx g++ -O0 -g -Wall -std=c++17 "$SRC/oomxx.cpp" -o "$BIN/oomxx"
spawn robustgo sh -c "cd '$SRC/go' && CGO_CFLAGS='-O0 -g -I$ROOT/include' go build -o '$BIN/robustgo' ."
wait_builds

if [ ! -f "$SHIM" ]; then
  begin "shim"
  bad "$SHIM does not exist (run make first)"
  finish
  echo "$npass passed, $nfail failed"
  exit 1
fi

# ----------------------------------------------------------------------- fork

# check_pid_logs PREFIX PIDS...: each pid's log PREFIX.PID.log holds exactly
# one complete double-free report, made by that pid.
check_pid_logs() {
  local prefix=$1 p f
  shift
  for p in "$@"; do
    f=$prefix.$p.log
    if [ ! -s "$f" ]; then
      bad "no log $(basename "$f")"
      continue
    fi
    [ "$(nreports "$f")" -eq 1 ] || bad "$(basename "$f"): $(nreports "$f") reports, expected 1"
    grep -q "^==$p==ERROR: cgoguard: double-free " "$f" || bad "$(basename "$f") has no double-free report by pid $p"
    grep -q '^SUMMARY: cgoguard: double-free' "$f" || bad "$(basename "$f") has no SUMMARY line"
  done
}

# 50 forks while four threads allocate; each child allocates 20000 times,
# starts a thread, frees twice (neutralize) and exits 0
if begin fork/children-allocate; then
  xrun "mode=neutralize:log_path=$LOGS/fork.%p.log" "$BIN/robust" fork 50
  want_status 0
  want_line "$O" 'children ok 50 of 50' "not every child exited 0: $(grep -m1 'children ok' "$O")"
  ppid=$(sed -n 's/^parent=\([0-9]*\)$/\1/p' "$O")
  mapfile -t cpids < <(sed -n 's/^child=\([0-9]*\) .*/\1/p' "$O")
  [ "${#cpids[@]}" -eq 50 ] || bad "${#cpids[@]} children listed, expected 50"
  check_pid_logs "$LOGS/fork" ${ppid:+"$ppid"} "${cpids[@]}"
  [ -z "$ppid" ] && bad "no parent= line"
  want_reports "$E" 0
  finish
fi

# the same, but each child execs the program again after allocating (as a
# shell or a runtime does between fork and exec); the new image reports
if begin fork/children-exec; then
  xrun "mode=neutralize:log_path=$LOGS/fexec.%p.log" "$BIN/robust" fork-exec 30
  want_status 0
  want_line "$O" 'children ok 30 of 30' "not every child exited 0: $(grep -m1 'children ok' "$O")"
  ppid=$(sed -n 's/^parent=\([0-9]*\)$/\1/p' "$O")
  mapfile -t cpids < <(sed -n 's/^child=\([0-9]*\) .*/\1/p' "$O")
  [ "${#cpids[@]}" -eq 30 ] || bad "${#cpids[@]} children listed, expected 30"
  check_pid_logs "$LOGS/fexec" ${ppid:+"$ppid"} "${cpids[@]}"
  want_reports "$E" 0
  finish
fi

# ----------------------------------------------------------------------- exec

# a C program runs /bin/true, /usr/bin/env, cat (fork+exec, posix_spawn,
# system), then becomes /usr/bin/env itself; every process loads the shim
# (verbosity=1 logs a start line per process into its own file)
if begin exec/c-children; then
  rm -f "$LOGS"/exec.*.log
  xrun "mode=neutralize:verbosity=1:log_path=$LOGS/exec.%p.log" "$BIN/robust" exec
  want_status 0
  want_line "$O" 'true status=0'
  want_line "$O" 'env status=0'
  want_line "$O" 'env LD_PRELOAD inherited'
  want_line "$O" 'env CGOGUARD_OPTIONS inherited'
  want_line "$O" 'cat maps status=0 shim loaded' "the shim is not in a child's /proc/self/maps"
  want_line "$O" 'spawned env status=0 LD_PRELOAD inherited' "posix_spawn child: $(grep -m1 spawned "$O")"
  want_line "$O" 'system status=0'
  want_line "$O" 'string intact yes'
  want_line "$O" 'survived'
  grep -q "^LD_PRELOAD=$SHIM\$" "$O" || bad "the process exec'd into env did not keep LD_PRELOAD"
  n=$(find "$LOGS" -maxdepth 1 -name 'exec.*.log' | wc -l)
  # robust, true, env, cat, spawned env, sh, true and env under sh; the
  # final env has robust's pid
  [ "$n" -ge 8 ] || bad "$n processes logged a start line, expected at least 8"
  nstart=$(cat "$LOGS"/exec.*.log 2>/dev/null | grep -c 'cgoguard .*: active')
  [ "$nstart" -ge 9 ] || bad "$nstart start lines, expected at least 9"
  nr=$(cat "$LOGS"/exec.*.log 2>/dev/null | grep -c 'ERROR: cgoguard:')
  [ "$nr" -eq 0 ] || bad "$nr report(s) in the children's logs"
  want_reports "$E" 0
  finish
fi

# a Go program runs exec.Command("ls"), env, cat, sh -c "ls | wc -l" while
# eight goroutines allocate C memory
if begin exec/go-children; then
  rm -f "$LOGS"/goexec.*.log
  xrun "mode=neutralize:verbosity=1:log_path=$LOGS/goexec.%p.log" "$BIN/robustgo" exec
  want_status 0
  want_line "$O" 'ls runs failed 0 of 20'
  want_line "$O" 'env err=<nil> LD_PRELOAD inherited CGOGUARD_OPTIONS inherited'
  want_line "$O" 'cat maps err=<nil> shim loaded'
  want_line "$O" 'sh pipeline err=<nil> lines=[0-9]+'
  want_line "$O" 'survived'
  n=$(find "$LOGS" -maxdepth 1 -name 'goexec.*.log' | wc -l)
  [ "$n" -ge 26 ] || bad "$n processes logged a start line, expected 26 (the program, 20 ls, env, cat, sh, ls, wc)"
  nr=$(cat "$LOGS"/goexec.*.log 2>/dev/null | grep -c 'ERROR: cgoguard:')
  [ "$nr" -eq 0 ] || bad "$nr report(s) in the logs"
  want_reports "$E" 0
  finish
fi

# -------------------------------------------------------------------- threads

# 2 x 5000 joined threads and 2500 detached ones (12500 > the shim's 8192
# thread records), each mallocs and frees; then a new thread frees twice:
# a double-free (not an invalid-free) only if exited threads gave their
# records (and so their quarantine) back
if begin threads/c-by-the-thousand; then
  xrun "mode=neutralize" "$BIN/robust" threads 5000 2
  want_status 0
  want_line "$O" 'batch 1: 5000 threads started and joined, 0 failed, .*'
  want_line "$O" 'batch 2: 5000 threads started and joined, 0 failed, .*'
  want_line "$O" 'detached: 2500 threads, 0 failed'
  want_line "$O" 'double-free count 1 invalid-free count 0' \
    "the last thread's double free: $(grep -m1 'double-free count' "$O")"
  want_line "$O" 'survived'
  want_reports "$E" 1 double-free
  NOTE=$(grep '^batch' "$O" | sed 's/.*, //' | tr '\n' ' ' | sed 's/ $//; s/ /, /')
  finish
fi

# Go: goroutines locked to their thread exit without unlocking, so the
# runtime ends each thread; 2 x 5000, then a double free in a new one
if begin threads/go-locked-threads; then
  xrun "mode=neutralize" "$BIN/robustgo" threads 5000 2
  want_status 0
  want_line "$O" 'batch 1: 5000 locked goroutines \(threads\) done'
  want_line "$O" 'batch 2: 5000 locked goroutines \(threads\) done'
  want_line "$O" 'double-free count 1 invalid-free count 0' \
    "the last thread's double free: $(grep -m1 'double-free count' "$O")"
  want_line "$O" 'survived'
  want_reports "$E" 1 double-free
  finish
fi

# ---------------------------------------------------------------------- dlopen

# 200 rounds: dlopen a library that allocates in its constructor and in a
# function, take the blocks, dlclose, then read and free them; then a
# double free of a block allocated by the unloaded library's constructor
# (its allocation site is unmapped code) and a leak allocated there
for v in "neutralize:mode=neutralize" \
  "alloc-stacks-leaks:mode=neutralize:alloc_stacks=1:leak_report=1" \
  "json-alloc-stacks:mode=neutralize:alloc_stacks=1:log_format=json"; do
  name=${v%%:*}
  opts=${v#*:}
  if begin "dlopen/$name"; then
    xrun "$opts" "$BIN/robust" dl "$BIN/libdl_alloc.so" 200
    want_status 0
    want_line "$O" 'rounds 200'
    want_line "$O" 'double-free count 1'
    want_line "$O" 'survived'
    nd=$(grep -c -E 'ERROR: cgoguard: double-free |"kind":"double-free"' "$E")
    [ "$nd" -eq 1 ] || bad "$nd double-free report(s), expected 1"
    if [[ $opts == *leak_report=1* ]]; then
      nl=$(grep -c 'ERROR: cgoguard: leak ' "$E")
      [ "$nl" -eq 1 ] || bad "$nl leak report(s), expected 1 (the block from the unloaded library)"
      grep -q '^SUMMARY: cgoguard: leak' "$E" || bad "the leak report has no SUMMARY"
    fi
    if [[ $opts == *json* ]]; then
      python3 -c '
import json, sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        json.loads(l)
' "$E" 2>/dev/null || bad "a JSON report line is not valid JSON"
    else
      grep -q -A1 '^block allocated at:' "$E" || bad "no allocation site in the double-free report"
    fi
    n=$(nreports "$E")
    exp=$([[ $opts == *leak_report=1* ]] && echo 2 || echo 1)
    [ "$n" -eq "$exp" ] || bad "$n reports in all, expected $exp"
    finish
  fi
done

if begin dlopen/abort; then
  xrun "-" "$BIN/robust" dl "$BIN/libdl_alloc.so" 50
  want_status 134
  want_line "$O" 'rounds 50'
  grep -q '^survived$' "$O" && bad "survived in abort mode"
  want_reports "$E" 1 double-free
  finish
fi

# --------------------------------------------------------------------- signals

# SIGALRM every 50 us (setitimer) while three threads run malloc, calloc,
# realloc, strdup and free; default options (abort on any report)
if begin signals/handler-no-calls; then
  xrun "-" "$BIN/robust" signals quiet 3
  want_status 0
  want_line "$O" 'survived'
  ns=$(sed -n 's/^signals \([0-9]*\) rounds.*/\1/p' "$O")
  [ "${ns:-0}" -ge 1000 ] || bad "only ${ns:-0} signals delivered"
  want_reports "$E" 0
  NOTE="${ns:-0} signals"
  finish
fi

# the handler calls strlen, memcpy, memset, strcpy, strcmp (async-signal-
# safe in POSIX.1-2008 TC2) on a live heap string, a stack buffer and a
# thread-local buffer, while the interrupted threads are inside the same
# checked calls
if begin signals/handler-string-calls; then
  xrun "-" "$BIN/robust" signals strings 3
  want_status 0
  want_line "$O" 'survived'
  ns=$(sed -n 's/^signals \([0-9]*\) rounds.*/\1/p' "$O")
  want_reports "$E" 0
  if [ "$(nreports "$E")" -gt 0 ]; then
    bad "first report: $(grep -m1 -A0 'ERROR: cgoguard' "$E" | cut -c1-160) / $(grep -m1 -E 'bytes (past|inside|before)' "$E" | cut -c1-160)"
  fi
  NOTE="${ns:-0} signals"
  finish
fi

# the handler mallocs and frees: not async-signal-safe, with glibc either,
# but the shim must not deadlock on it (a hang fails the test)
# malloc, free and realloc (handler-mallocs: small blocks; handler-large:
# 1 MiB blocks, jemalloc's extents, realloc in place; handler-fork: while
# fork() holds every allocator lock) in a handler that lands inside malloc,
# free, realloc, jemalloc or fork on the same thread (not async-signal-safe; plain glibc deadlocks on it now
# and then): the handler's block comes from the signal-handler heap, its
# table insert never waits for work its own thread interrupted
for kind in malloc large fork; do
  if begin "signals/handler-${kind/malloc/mallocs}"; then
    saved=$TIMEOUT
    TIMEOUT=30
    for m in neutralize abort; do
      xrun "mode=$m" "$BIN/robust" signals "$kind" 3
      want_status 0
      want_line "$O" 'survived'
      want_reports "$E" 0
    done
    NOTE="$(sed -n 's/^signals \([0-9]*\) rounds.*/\1/p' "$O") signals"
    TIMEOUT=$saved
    finish
  fi
done

# a bug in a handler while the interrupted threads free in a loop: a double
# free, strlen of a freed string, or (fork-report) a heap overflow in every
# 50th handler while the main thread forks, which holds the report lock and
# waits for the quarantine's.  The report must not wait for the quarantine's
# lock its own interrupted thread may hold (each of these hung)
for kind in double-free use-after-free fork-report; do
  if begin "signals/handler-$kind"; then
    saved=$TIMEOUT
    TIMEOUT=30
    want=$kind opts=mode=neutralize log=
    if [ "$kind" = fork-report ]; then # every report written: to a file
      want=heap-overflow log=$LOGS/fork-report.log
      opts=$opts:dedup=0:symbolize=0:log_path=$log
    fi
    xrun "$opts" "$BIN/robust" signals "$kind" 3
    log=${log:-$E}
    want_status 0
    want_line "$O" 'survived'
    n=$(nreports "$log")
    k=$(grep -c -E "ERROR: cgoguard: $want " "$log")
    [ "$n" -ge 1 ] && [ "$k" -eq "$n" ] || bad "$k $want report(s) of $n, expected at least 1, all $want"
    NOTE="$(sed -n 's/^signals \([0-9]*\) rounds.*/\1/p' "$O") signals, $n reports"
    TIMEOUT=$saved
    finish
  fi
done

# ----------------------------------------------------------- unwritable logs

# log_path that cannot be opened: one line names it, reports go to stderr
for v in "missing-dir:/nonexistent/dir/x.log" "directory:$LOGS" "symlink:$LOGS/link.log"; do
  name=${v%%:*}
  path=${v#*:}
  if begin "log/unopenable-$name"; then
    if [ "$name" = symlink ]; then
      : >"$LOGS/link-target.log"
      ln -sf "$LOGS/link-target.log" "$LOGS/link.log"
    fi
    xrun "mode=neutralize:log_path=$path" "$BIN/robust" doubles 1
    want_status 0
    want_line "$O" 'survived'
    nl=$(grep -c 'cgoguard: cannot open log_path' "$E")
    [ "$nl" -eq 1 ] || bad "$nl 'cannot open log_path' line(s) on stderr, expected 1"
    grep -q -F "cannot open log_path '$path'" "$E" || bad "the line does not name '$path'"
    grep -q -F "reports go to stderr" "$E" || bad "the line does not say where reports go"
    want_reports "$E" 1 double-free
    if [ "$name" = symlink ] && [ -s "$LOGS/link-target.log" ]; then
      bad "the report followed the symlink (O_NOFOLLOW)"
    fi
    finish
  fi
done

if begin log/unopenable-abort; then
  xrun "log_path=/nonexistent/dir/x.log" "$BIN/robust" doubles 1
  want_status 134
  grep -q 'cgoguard: cannot open log_path' "$E" || bad "no 'cannot open log_path' line"
  want_reports "$E" 1 double-free
  finish
fi

# a full disk (/dev/full: every write fails with ENOSPC): 1000 reports are
# dropped, counted, quickly, and the program runs on
if begin log/full-disk; then
  xrun "mode=neutralize:dedup=0:log_path=/dev/full" "$BIN/robust" doubles 1000
  want_status 0
  want_line "$O" 'double-free count 1000' "errors not counted: $(grep -m1 'double-free count' "$O")"
  want_line "$O" 'survived'
  want_reports "$E" 0
  t=$(sed -n 's/^doubles 1000 in \([0-9.]*\)s$/\1/p' "$O")
  NOTE="1000 dropped reports in ${t:-?}s"
  finish
fi

if begin log/full-disk-abort; then
  xrun "log_path=/dev/full" "$BIN/robust" doubles 5
  want_status 134
  want_reports "$E" 0
  finish
fi

if begin log/full-disk-json-go; then
  xrun "mode=neutralize:dedup=0:log_format=json:log_path=/dev/full" "$BIN/robustgo" doubles 500
  want_status 0
  want_line "$O" 'double-free count 500'
  want_line "$O" 'survived'
  finish
fi

# stderr is a pipe whose reader is gone (a log shipper died): reports are
# dropped like on a full disk, the program runs on (neutralize).  A C
# program gets SIGPIPE for a write to it unless the writer avoids it.
if begin log/broken-pipe-stderr; then
  xrun "mode=neutralize:dedup=0" "$BIN/robust" broken-stderr "$BIN/robust" doubles 100
  want_status 0
  want_line "$O" 'double-free count 100'
  want_line "$O" 'survived'
  [ "$RC" -eq 141 ] && bad "killed by SIGPIPE writing a report to the broken stderr pipe"
  finish
fi

if begin log/broken-pipe-stderr-go; then
  xrun "mode=neutralize:dedup=0" "$BIN/robust" broken-stderr "$BIN/robustgo" doubles 100
  want_status 0
  want_line "$O" 'double-free count 100'
  want_line "$O" 'survived'
  finish
fi

# ------------------------------------------------------------------ max_reports

if begin max_reports/neutralize; then
  xrun "mode=neutralize:dedup=0:max_reports=3" "$BIN/robust" doubles 10
  want_status 0
  want_line "$O" 'double-free count 10' "errors past max_reports not counted: $(grep -m1 'double-free count' "$O")"
  want_line "$O" 'survived'
  want_reports "$E" 3 double-free
  finish
fi

if begin max_reports/json; then
  xrun "mode=neutralize:dedup=0:max_reports=2:log_format=json" "$BIN/robust" doubles 10
  want_status 0
  want_line "$O" 'double-free count 10'
  want_reports "$E" 2 double-free
  finish
fi

if begin max_reports/zero-abort; then
  xrun "max_reports=0" "$BIN/robust" doubles 5
  want_status 134
  want_reports "$E" 0
  finish
fi

# 16 threads free twice 200 times each, all at once: exactly 5 reports
if begin max_reports/threads; then
  xrun "mode=neutralize:dedup=0:max_reports=5" "$BIN/robust" par-doubles 16 200
  want_status 0
  want_line "$O" 'double-free count 3200'
  want_line "$O" 'survived'
  want_reports "$E" 5 double-free
  finish
fi

# --------------------------------------------------------------- out of memory

# ulimit -v (2 GB): malloc of 1 MiB blocks until NULL, then huge requests
# of every entry point; NULL and ENOMEM, never a crash, never a report;
# after freeing, allocations work again
LIMIT=2000000
if begin oom/c-ulimit; then
  LIMIT_KB=$LIMIT
  xrun "-" "$BIN/robust" oom
  LIMIT_KB=
  want_status 0
  want_line "$O" 'malloc: [0-9]+ MiB, then NULL errno=ENOMEM' "fill: $(grep -m1 '^malloc:' "$O")"
  want_line "$O" 'calloc 256 TiB: NULL errno=ENOMEM'
  want_line "$O" 'calloc overflow: NULL errno=ENOMEM'
  want_line "$O" 'malloc SIZE_MAX: NULL errno=ENOMEM'
  want_line "$O" 'realloc 256 TiB: NULL errno=ENOMEM old block intact'
  want_line "$O" 'posix_memalign 256 TiB: ENOMEM'
  want_line "$O" 'aligned_alloc 256 TiB: NULL errno=ENOMEM'
  want_line "$O" 'after freeing: works after OOM, 1 MiB ok'
  want_line "$O" 'invalid-free count 0 double-free count 0'
  want_line "$O" 'survived'
  want_reports "$E" 0
  NOTE="$(sed -n 's/^malloc: \([0-9]*\) MiB.*/\1 MiB/p' "$O") before NULL under ulimit -v $LIMIT"
  finish
fi

if begin oom/c-huge-requests; then
  xrun "-" "$BIN/robust" oom nofill
  want_status 0
  want_line "$O" 'calloc 256 TiB: NULL errno=ENOMEM'
  want_line "$O" 'calloc overflow: NULL errno=ENOMEM'
  want_line "$O" 'malloc SIZE_MAX: NULL errno=ENOMEM'
  want_line "$O" 'realloc 256 TiB: NULL errno=ENOMEM old block intact'
  want_line "$O" 'posix_memalign 256 TiB: ENOMEM'
  want_line "$O" 'aligned_alloc 256 TiB: NULL errno=ENOMEM'
  want_line "$O" 'survived'
  want_reports "$E" 0
  finish
fi

# C++: new throws std::bad_alloc, nothrow new returns nullptr, the
# new-handler runs (frees a reserve, then gives up)
if begin oom/cxx-bad-alloc; then
  LIMIT_KB=$LIMIT
  xrun "-" "$BIN/oomxx"
  LIMIT_KB=
  want_status 0
  want_line "$O" 'new 256 TiB: bad_alloc'
  want_line "$O" 'nothrow new 256 TiB: nullptr'
  want_line "$O" 'filled: bad_alloc after some MiB'
  want_line "$O" 'new with handler: bad_alloc after 2 handler calls'
  want_line "$O" 'after: new works 7'
  want_line "$O" 'survived'
  want_reports "$E" 0
  finish
fi

# --------------------------------------------------------- closed descriptors

# close(2), then a double free: the report reaches the original stderr
if begin stderr/closed; then
  xrun "mode=neutralize" "$BIN/robust" close-stderr
  want_status 0
  want_line "$O" 'double-free count 1'
  want_line "$O" 'survived'
  want_reports "$E" 1 double-free
  finish
fi

if begin stderr/closed-abort; then
  xrun "-" "$BIN/robust" close-stderr
  want_status 134
  want_reports "$E" 1 double-free
  finish
fi

# a daemon closes every descriptor above 2, then opens 300 data files: one
# gets the number the shim kept for its log; a report must not land in it
if begin stderr/closed-all-then-reused; then
  rm -rf "$LOGS/data"
  mkdir -p "$LOGS/data"
  xrun "mode=neutralize" "$BIN/robust" close-all "$LOGS/data"
  want_status 0
  want_line "$O" 'survived'
  want_line "$O" 'dirty data files 0' \
    "the report was written into the program's own file: $(grep -m1 '^data file' "$O")"
  finish
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
