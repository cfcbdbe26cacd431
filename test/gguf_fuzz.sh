#!/usr/bin/env bash
# Fuzzes the GGUF reader, and the tokenizer loaded from the files it
# accepts, with libFuzzer (clang -fsanitize=fuzzer,address,undefined) for
# FUZZ_SECONDS (default 20: the brief run of make test; make fuzz sets a
# longer one). Seeds: small files from the test writer
# and the metadata part of a reference model. Prints one TAP line.
set -u
secs=${FUZZ_SECONDS:-20}
out=build/fuzz/gguf
mkdir -p "$out/corpus" "$out/seeds"
flags="-std=gnu11 -g -O1 -Iinclude -DMN_HOSTED=1"
srcs="infer/gguf.c infer/tokenizer.c infer/pretok.c infer/utf8.c infer/detok.c"
if ! clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     test/gguf_fuzz.c $srcs -o "$out/gguf_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - gguf fuzz target builds"; exit 1
fi
clang $flags -DGGUF_FUZZ_SEEDS test/gguf_fuzz.c $srcs -o "$out/seedgen" &&
  "$out/seedgen" "$out/seeds" || { echo "not ok - gguf fuzz seeds"; exit 1; }
model=../shared/testdata/llm/models/stories260K-q4_0.gguf
[ -f "$model" ] && head -c 16384 "$model" > "$out/seeds/stories-head"
if "$out/gguf_fuzz" -max_total_time="$secs" -max_len=16384 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - gguf reader fuzzed ${secs}s, ${runs:-?} inputs, no crash"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - gguf reader fuzz found a crash (see $out/fuzz.log)"
  exit 1
fi
