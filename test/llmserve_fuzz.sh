#!/usr/bin/env bash
# Fuzzes the OpenAI-compatible server's request side (llmserve/proto.c:
# the request reader over Debian's http-parser, the chat decoder over
# jsmn, the answers) with libFuzzer for FUZZ_SECONDS (default 20; make
# fuzz sets a longer one). Seeds: the llama.cpp recording's requests (read
# from ../shared/testdata, not copied) and a few more. One TAP line.
set -u
secs=${FUZZ_SECONDS:-20}
out=build/fuzz/llmserve
hp=build/src/http-parser-2.9.4-5
tools/fetch-source.sh http-parser || { echo "not ok - http-parser source fetched"; exit 1; }
mkdir -p "$out/corpus" "$out/seeds"
flags="-std=gnu11 -g -O1 -Iinclude -Illmapi -I$hp -DMN_HOSTED=1 -DHTTP_MAX_HEADER_SIZE=65536 -DHTTP_PARSER_STRICT=1"
if ! clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     test/llmserve_fuzz.c llmserve/proto.c llmapi/json.c "$hp/http_parser.c" \
     -o "$out/llmserve_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - llmserve fuzz target builds"; exit 1
fi
srv=../shared/testdata/llm/server
for f in raw_stream_false.request.raw raw_stream_true.request.raw; do
  [ -f "$srv/$f" ] && { printf '\x3f'; cat "$srv/$f"; } > "$out/seeds/$f"
done
body='{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a\u00e9"}]}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":4,"temperature":0.5,"seed":1}'
printf '\x07POST /v1/chat/completions HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\nGET /health HTTP/1.1\r\n\r\n' "${#body}" "$body" > "$out/seeds/chunked"
printf '\x01GET /v1/models HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /x?y HTTP/1.1\r\n\r\n' > "$out/seeds/get"
if "$out/llmserve_fuzz" -max_total_time="$secs" -max_len=8192 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - llmserve request reader and chat decoder fuzzed ${secs}s, ${runs:-?} inputs, no crash"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - llmserve fuzz found a crash (see $out/fuzz.log)"
  exit 1
fi
