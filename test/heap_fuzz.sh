#!/bin/sh
# Builds the heap's libFuzzer harness (clang, ASan+UBSan) and runs it for
# FUZZ_SECONDS (default 10: the brief run `make test` does; `make fuzz`
# passes a longer time). Prints one TAP line. Corpus: build/fuzz/heap/.
set -u
secs=${FUZZ_SECONDS:-10}
out=build/fuzz
mkdir -p "$out/heap"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all test/heap_fuzz.c kernel/heap.c \
    -o "$out/heap_fuzz" 2> "$out/heap_fuzz.build.log"; then
  cat "$out/heap_fuzz.build.log"
  echo "not ok - heap fuzz harness builds"
  exit 1
fi
if "$out/heap_fuzz" -max_total_time="$secs" -max_len=4096 \
    -artifact_prefix="$out/heap-" "$out/heap" > "$out/heap_fuzz.log" 2>&1; then
  echo "ok - heap fuzz ${secs}s: $(grep -o 'Done [0-9]* runs' "$out/heap_fuzz.log")"
else
  tail -n 40 "$out/heap_fuzz.log"
  echo "not ok - heap fuzz ${secs}s (crash input in $out/heap-*)"
  exit 1
fi
