#!/usr/bin/env bash
# Runs every unit-test binary of each build in $TEST_BUILDS, then every
# script in $TEST_SCRIPTS (against build/hosted), and prints one closing
# line "N passed, N failed".
#
# A unit test is a cmocka program: its "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)" summary lines are counted. A script prints TAP
# lines ("ok ..." / "not ok ...") or a cmocka summary. A program that exits
# non-zero without reporting a failure (a crash, a sanitizer report, a
# timeout) counts as one failure. Each line gives the seconds the program
# took (CI's budget). Logs: build/test-logs/.
set -u
builds=${TEST_BUILDS:-build/hosted build/hosted-clang build/hosted-asan}
scripts=${TEST_SCRIPTS:-}
per_test_timeout=${TEST_TIMEOUT:-900}
logdir=build/test-logs
mkdir -p "$logdir"
export CMOCKA_MESSAGE_OUTPUT=stdout
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0 fail=0
failed_names=()

count() { # name logfile exitcode seconds
  local name=$1 log=$2 rc=$3 secs=$4 p f
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  p=$((p + $(grep -c -E '^ok( |$)' "$log")))
  f=$((f + $(grep -c -E '^not ok( |$)' "$log")))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    echo "   $name: reported no tests"; f=1
  fi
  pass=$((pass + p)); fail=$((fail + f))
  if [ "$f" -gt 0 ]; then
    failed_names+=("$name")
    printf 'FAIL %-48s %4d passed %4d failed %5ds (rc %d, log %s)\n' "$name" "$p" "$f" "$secs" "$rc" "$log"
    tail -n 30 "$log" | sed 's/^/     | /'
  else
    printf 'ok   %-48s %4d passed %5ds\n' "$name" "$p" "$secs"
  fi
}

for b in $builds; do
  [ -d "$b/test" ] || continue
  for t in "$b"/test/*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name="$(basename "$b")/$(basename "$t")"
    log="$logdir/$(basename "$b")-$(basename "$t").log"
    t0=$SECONDS
    timeout --kill-after=10 "$per_test_timeout" "$t" > "$log" 2>&1
    count "$name" "$log" $? $((SECONDS - t0))
  done
done

for s in $scripts; do
  name="script/$(basename "$s")"
  log="$logdir/script-$(basename "$s").log"
  t0=$SECONDS
  O=build/hosted timeout --kill-after=10 "$per_test_timeout" "$s" > "$log" 2>&1
  count "$name" "$log" $? $((SECONDS - t0))
done

if [ ${#failed_names[@]} -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
echo "tests took $((SECONDS / 60)) min $((SECONDS % 60)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
