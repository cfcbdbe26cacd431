#!/usr/bin/env bash
# Fuzzes the conversation store's decoder (chat/chat_store.c: bytes from a
# disk or a UEFI variable) with libFuzzer (clang -fsanitize=fuzzer,address,
# undefined) for FUZZ_SECONDS (default 10; make fuzz sets a longer one).
# One TAP line.
set -u
secs=${FUZZ_SECONDS:-10}
out=build/fuzz/chat_store
mkdir -p "$out/corpus" "$out/seeds"
if ! clang -std=gnu11 -g -O1 -Iinclude -DMN_HOSTED=1 -fsanitize=fuzzer,address,undefined \
     -fno-sanitize-recover=all test/chat_store_fuzz.c chat/chat_store.c lib/err.c \
     -o "$out/chat_store_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - chat store fuzz target builds"; exit 1
fi
printf 'mneme-chats 1\nconv 2 2 5\ntitle\nturn 1 0 2\nhi\nturn 2 1 5\nhello\nconv 1 1 0\n\nturn 1 2 0\n\nend\n' \
  > "$out/seeds/two"
if "$out/chat_store_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - chat store decoder fuzzed ${secs}s, ${runs:-?} inputs, no crash, round trips hold"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - chat store decoder fuzz found a failure (see $out/fuzz.log)"
  exit 1
fi
