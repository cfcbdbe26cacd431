#!/usr/bin/env bash
# Fuzzes the LLM API decoders (SSE, both stream decoders, answers, error
# bodies, JSON strings) with libFuzzer for FUZZ_SECONDS (default 20; make
# fuzz sets a longer one). Seeds: the llama.cpp recording's bodies (read
# from ../shared/testdata, not copied). Prints one TAP line.
set -u
secs=${FUZZ_SECONDS:-20}
out=build/fuzz/llmapi
mkdir -p "$out/corpus" "$out/seeds"
flags="-std=gnu11 -g -O1 -Iinclude -DMN_HOSTED=1"
srcs="llmapi/json.c llmapi/sse.c llmapi/llmapi.c"
if ! clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     test/llmapi_fuzz.c $srcs -o "$out/llmapi_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - llmapi fuzz target builds"; exit 1
fi
srv=../shared/testdata/llm/server
for f in stream_true.body.json stream_false.body.json curl_stream_true.body curl_stream_false.body; do
  [ -f "$srv/$f" ] && { printf '\0\0'; head -c 8192 "$srv/$f"; } > "$out/seeds/$f"
done
printf '\001\000event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":3}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi \\ud83d\\ude00"}}\n\n' > "$out/seeds/anthropic"
if "$out/llmapi_fuzz" -max_total_time="$secs" -max_len=8192 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - llmapi decoders fuzzed ${secs}s, ${runs:-?} inputs, no crash"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - llmapi fuzz found a crash (see $out/fuzz.log)"
  exit 1
fi
