# The integration suites' shared test bookkeeping (sourced by run.sh,
# robust.sh, symbolize.sh and repro.sh): each test is begin NAME ... finish,
# printing "PASS name" or "FAIL name: reasons" with the files it showed.
# The caller sets FILTER (ITEST_FILTER), and for xrun/prun OUT, SHIM and
# TIMEOUT; it counts npass/nfail.

# suite_setup NAME TIMEOUT FRESH KEPT: the settings every suite shares (ROOT,
# SHIM made absolute for LD_PRELOAD, OUT=build/NAME, TIMEOUT from
# ITEST_TIMEOUT or the default given, FILTER), the working directory, one
# run at a time (runs share $OUT), and under $OUT the directories FRESH
# (emptied) and KEPT (space-separated lists).  The caller sets HERE.
suite_setup() {
  ROOT=${ROOT:-$(cd "$HERE/../.." && pwd)}
  SHIM=${SHIM:-$ROOT/build/libcgoguard.so}
  case $SHIM in /*) ;; *) SHIM=$PWD/$SHIM ;; esac
  OUT=$ROOT/build/$1
  TIMEOUT=${ITEST_TIMEOUT:-$2}
  FILTER=${ITEST_FILTER:-}
  cd "$ROOT" || exit 2
  npass=0
  nfail=0
  mkdir -p "$OUT"
  exec 9>"$OUT/.lock"
  flock 9
  local d
  for d in $3; do rm -rf "${OUT:?}/$d"; done
  for d in $3 $4; do mkdir -p "$OUT/$d"; done
}

TNAME=
REASONS=()
SHOW=()
NOTE=

# begin NAME: starts a test; returns 1 (skip) when ITEST_FILTER excludes it
# or ITEST_SKIP (a regex: known-open tests) matches it.
begin() {
  TNAME=$1
  REASONS=()
  SHOW=()
  NOTE=
  if [ -n "${FILTER:-}" ] && ! [[ $TNAME =~ $FILTER ]]; then
    return 1
  fi
  if [ -n "${ITEST_SKIP:-}" ] && [[ $TNAME =~ $ITEST_SKIP ]]; then
    return 1
  fi
  return 0
}

# bad REASON: records a failed check of the current test.
bad() { REASONS+=("$1"); }

# show FILE LABEL: the file is printed (first 20 lines) if the test fails.
show() { SHOW+=("$1" "$2"); }

# finish: PASS (with NOTE, when a test set one) or FAIL and what it showed.
finish() {
  if [ ${#REASONS[@]} -eq 0 ]; then
    echo "PASS $TNAME${NOTE:+ ($NOTE)}"
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
O=        # stdout file of the last run
E=        # stderr file of the last run
IN=/dev/null
LIMIT_KB= # when set: ulimit -v for the next run

# xrun OPTIONS CMD...: runs CMD under the shim with CGOGUARD_OPTIONS=OPTIONS
# (unset when OPTIONS is "-"); sets RC, $O and $E.  The run is killed after
# $TIMEOUT seconds (RC 137, and the test fails as a hang).
xrun() {
  local opts=$1
  shift
  RUNID=$((RUNID + 1))
  O=$OUT/run/$RUNID.out
  E=$OUT/run/$RUNID.err
  local envopts=(env -u GOTRACEBACK -u CGOGUARD_OPTIONS LD_PRELOAD="$SHIM")
  [ "$opts" != "-" ] && envopts+=(CGOGUARD_OPTIONS="$opts")
  # (the braces keep bash's "Aborted" job notice out of the suite's output)
  {
    (
      [ -n "$LIMIT_KB" ] && ulimit -v "$LIMIT_KB"
      exec timeout -s KILL "$TIMEOUT" "${envopts[@]}" "$@" >"$O" 2>"$E" <"$IN"
    )
  } 2>/dev/null
  RC=$?
  show "$O" "stdout"
  show "$E" "stderr"
  [ "$RC" -eq 137 ] && bad "killed after ${TIMEOUT}s (hang?)"
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

# ----------------------------------------------------------------- building

bpids=()
bnames=()

# spawn NAME CMD...: builds $BIN/NAME in the background, output in
# $OUT/build-logs/NAME.log.
spawn() {
  local name=$1
  shift
  rm -f "$BIN/$name"
  ("$@" >"$OUT/build-logs/$name.log" 2>&1) &
  bpids+=($!)
  bnames+=("$name")
}

# wait_builds: one test per spawned build ("build/NAME"): it passed and
# left an executable $BIN/NAME.
wait_builds() {
  local i brc
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
  bpids=()
  bnames=()
}
