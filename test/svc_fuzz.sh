#!/usr/bin/env bash
# test/svc_fuzz.sh: builds test/svc_fuzz.c (tracing decoder and key
# decoder) with clang's libFuzzer into build/fuzz/ and runs it for
# FUZZ_SECONDS (make fuzz sets it, default 120; unset under make test:
# 2 s). Prints one TAP line.
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-2}
out=build/fuzz
bin=$out/svc_fuzz
log=$out/svc.log
corpus=$out/corpus/svc
mkdir -p "$out" "$corpus"
srcs="test/svc_fuzz.c tools/mnemeterm/trace_decode.c services/kbd_decode.c lib/cobs.c lib/postcard.c lib/err.c"
# shellcheck disable=SC2086
if ! [ -x "$bin" ] || [ -n "$(find $srcs include/mneme tools/mnemeterm/trace_decode.h -newer "$bin" | head -1)" ]; then
  if ! clang -g -O1 -std=gnu11 -Iinclude -Itools/mnemeterm \
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
       $srcs -o "$bin" > "$log" 2>&1; then
    echo "not ok - fuzz svc: build failed (see $log)"; exit 1
  fi
fi
if [ -z "$(ls -A "$corpus")" ]; then
  # a key sequence, and a tracing stream: Meta + Event + Log records
  printf '\x01aB\r\x1b[A\x1b[3~\xc3\xa9\x03' > "$corpus/keys"
  printf '\x00\x0d\x01\x01\x01\x02\x04test\x02hi\x01f\x05\x00\x09\x02\x01\x05\x01\x01\x01\x01\x01\x02t\x00' > "$corpus/trace"
fi
if "$bin" -max_total_time="$secs" -print_final_stats=1 -max_len=2048 \
     -artifact_prefix="$out/svc-" "$corpus" > "$log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "ok - fuzz svc (tracing decoder, key decoder): ${runs:-?} runs in ${secs}s"
else
  echo "not ok - fuzz svc: failure, see $log and $out/svc-*"
  tail -n 20 "$log" | sed 's/^/# /'
  exit 1
fi
