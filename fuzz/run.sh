#!/usr/bin/env bash
# fuzz/run.sh: builds the libFuzzer targets with clang into build/fuzz/
# and runs each for FUZZ_SECONDS (default 120; `make fuzz`). Corpora are
# kept in build/fuzz/corpus/<target>/ and seeded with known-good inputs.
# Prints one TAP line per target; exits non-zero if any target fails
# (crash, sanitizer report, broken invariant: see build/fuzz/<target>.log).
#   FUZZ_TARGETS="cobs config" fuzz/run.sh    only some targets
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-120}
out=build/fuzz
mkdir -p "$out"
CC=${FUZZ_CC:-clang}
FLAGS="-g -O1 -std=gnu11 -Iinclude -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
declare -A SRCS=(
  [postcard]="fuzz/postcard_fuzz.c lib/postcard.c lib/err.c"
  [cobs]="fuzz/cobs_fuzz.c lib/cobs.c lib/err.c"
  [sermux]="fuzz/sermux_fuzz.c lib/sermux_frame.c lib/cobs.c lib/err.c"
  [config]="fuzz/config_fuzz.c lib/config.c lib/postcard.c lib/err.c"
)
targets=${FUZZ_TARGETS:-postcard cobs sermux config}

seed() { # target corpus-dir
  local c=$2
  case $1 in
  postcard) printf '\x00\x80\x01\x0a\x02Hi\x0d\x10abcdefghijklmnop' > "$c/seed1"
            printf '\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01' > "$c/seed2" ;;
  cobs)     printf '\x03\x0a\x0b\x02\x0c\x00\x01\x00' > "$c/seed1" ;;
  sermux)   printf '\x80boot\r\n\x07\x69\x42\x01\x02\x03\x04\x00' > "$c/seed1"
            printf '\x01\x02\x02\x41\x00' > "$c/seed2" ;;
  config)   python3 tools/mkconfig.py config/hosted.toml --bin "$c/hosted" &&
            python3 tools/mkconfig.py test/config_full.toml --bin "$c/full" ;;
  esac
}

fail=0
for t in $targets; do
  bin=$out/${t}_fuzz log=$out/$t.log corpus=$out/corpus/$t
  mkdir -p "$corpus"
  : > "$log"
  # shellcheck disable=SC2086
  if [ -x "$bin" ] && [ -z "$(find ${SRCS[$t]} include/mneme fuzz/run.sh -newer "$bin" | head -1)" ]; then
    : # up to date
  elif ! $CC $FLAGS ${SRCS[$t]} -o "$bin" > "$log" 2>&1; then
    echo "not ok - fuzz $t: build failed (see $log)"; fail=1; continue
  fi
  [ -n "$(ls -A "$corpus")" ] || seed "$t" "$corpus"
  if "$bin" -max_total_time="$secs" -print_final_stats=1 -max_len=4096 \
       -artifact_prefix="$out/$t-" "$corpus" >> "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "ok - fuzz $t: ${runs:-?} runs in ${secs}s"
  else
    echo "not ok - fuzz $t: failure, see $log and $out/$t-*"; fail=1
    tail -n 20 "$log" | sed 's/^/# /'
  fi
done
exit $fail
