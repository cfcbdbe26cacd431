#!/usr/bin/env bash
# bench/forth.sh: the classic gforth benchmarks (siev, bubble, matrix, fib
# from Debian's gforth-common, used in place) on mneme-forth, gforth and
# gforth-fast in the same run. Checks each result on mneme-forth, prints
# the best of $REPS CPU times (user+system, so a busy machine disturbs the
# figures less than wall time would) per system, the ratios mneme/gforth
# and mneme/gforth-fast, and their geometric means. Each run includes
# the system's start-up (our VM compiles its prelude at start).
# bench/floats.fs and bench/locals.fs (ours, standard words only) measure
# the Floating-Point and Locals word sets; their geometric mean is
# printed apart from the classic four.
set -u
O=${O:-build/hosted}
REPS=${REPS:-5}
forth=$O/mneme-forth
[ -x "$forth" ] || { echo "not ok - $forth missing (make first)"; exit 1; }
dir=$(dirname "$(dpkg -L gforth-common 2>/dev/null | grep -E '/siev\.fs$' | head -1)")
if [ ! -f "$dir/siev.fs" ] || ! command -v gforth-fast >/dev/null; then
  echo "not ok - gforth and gforth-common are needed (tools/deps.sh)"; exit 1
fi

# check: code run after loading the file; expected: output it must print
declare -A check=(
  [siev]='main primes . bye'
  [bubble]='main verify-list .( sorted) bye'
  [matrix]=': msum 0 imr mat-byte-size mybounds do i @ + cell +loop ; main msum . bye'
  [fib]='main 34 fib . bye'
  [floats]='main .( done) bye'
  [locals]='main .( done) bye'
)
declare -A expect=([siev]='1899' [bubble]='sorted' [matrix]='4424480' [fib]='9227465'
                   [floats]='done' [locals]='done')

# CPU time in microseconds of "$@" (stdin from $input)
cpu_us() {
  local TIMEFORMAT='%3U %3S'
  { time "$@" <<<"$input" >/dev/null 2>&1; } 2>&1 | awk '{ printf "%d", ($1 + $2) * 1e6 }'
}

# best CPU time over REPS runs
best() {
  local b=0 d i
  for ((i = 0; i < REPS; i++)); do
    d=$(cpu_us "$@")
    if [ "$b" -eq 0 ] || [ "$d" -lt "$b" ]; then b=$d; fi
  done
  [ "$b" -gt 0 ] || b=1
  echo "$b"
}

fail=0
lg=0 lgf=0 n=0 xg=0 xgf=0 xn=0
for b in siev bubble matrix fib floats locals; do
  f=$dir/$b.fs
  case $b in floats|locals) f=bench/$b.fs ;; esac
  out=$("$forth" "$f" <<<"${check[$b]}" 2>&1)
  if [[ "$out" == *"${expect[$b]}"* ]]; then
    echo "ok - $b result ${expect[$b]}"
  else
    echo "not ok - $b result: expected ${expect[$b]}, got: $out"
    fail=1
  fi
  input='main bye'
  tm=$(best "$forth" "$f")
  input=''
  tg=$(best gforth "$f" -e 'main bye')
  tf=$(best gforth-fast "$f" -e 'main bye')
  rg=$(awk -v a="$tm" -v b="$tg" 'BEGIN { printf "%.3f", a / b }')
  rf=$(awk -v a="$tm" -v b="$tf" 'BEGIN { printf "%.3f", a / b }')
  printf '%-7s cpu ms: mneme %7.1f  gforth %7.1f  gforth-fast %7.1f  ratio/gforth %s  ratio/gforth-fast %s\n' \
    "$b" "$(awk -v t="$tm" 'BEGIN{print t/1e3}')" "$(awk -v t="$tg" 'BEGIN{print t/1e3}')" \
    "$(awk -v t="$tf" 'BEGIN{print t/1e3}')" "$rg" "$rf"
  if [ $b = floats ] || [ $b = locals ]; then
    xg=$(awk -v s="$xg" -v r="$rg" 'BEGIN { print s + log(r) }')
    xgf=$(awk -v s="$xgf" -v r="$rf" 'BEGIN { print s + log(r) }')
    xn=$((xn + 1))
    continue
  fi
  lg=$(awk -v s="$lg" -v r="$rg" 'BEGIN { print s + log(r) }')
  lgf=$(awk -v s="$lgf" -v r="$rf" 'BEGIN { print s + log(r) }')
  n=$((n + 1))
done
awk -v s="$lg" -v n="$n" 'BEGIN { printf "geomean ratio/gforth      %.3f\n", exp(s / n) }'
awk -v s="$lgf" -v n="$n" 'BEGIN { printf "geomean ratio/gforth-fast %.3f\n", exp(s / n) }'
awk -v s="$xg" -v n="$xn" 'BEGIN { printf "floats+locals geomean ratio/gforth      %.3f\n", exp(s / n) }'
awk -v s="$xgf" -v n="$xn" 'BEGIN { printf "floats+locals geomean ratio/gforth-fast %.3f\n", exp(s / n) }'
exit $fail
