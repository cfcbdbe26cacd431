#!/usr/bin/env bash
# Fuzzes the HTTP response parser (http/response.c over Debian's
# http-parser, fetched by make) and the client (http/client.c over a fake
# transport: headers, redirects, keep-alive) with libFuzzer (clang
# -fsanitize=fuzzer,address,undefined) for FUZZ_SECONDS (default 10; make
# fuzz sets a longer one). Seeds: a few well-formed responses. One TAP line.
set -u
secs=${FUZZ_SECONDS:-10}
out=build/fuzz/http
hp=build/src/http-parser-2.9.4-5
tools/fetch-source.sh http-parser || { echo "not ok - http-parser source fetched"; exit 1; }
mkdir -p "$out/corpus" "$out/seeds"
flags="-std=gnu11 -g -O1 -Iinclude -I$hp -DMN_HOSTED=1 -DHTTP_MAX_HEADER_SIZE=65536 -DHTTP_PARSER_STRICT=1"
if ! clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     test/http_fuzz.c http/response.c http/client.c lib/err.c "$hp/http_parser.c" -o "$out/http_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - http fuzz target builds"; exit 1
fi
printf '\x10HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' > "$out/seeds/length"
printf '\x20HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' > "$out/seeds/chunked"
printf '\x05HTTP/1.0 301 Moved\r\nLocation: https://x/\r\n\r\nbody until close' > "$out/seeds/close"
if "$out/http_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - http response parser and client fuzzed ${secs}s, ${runs:-?} inputs, no crash"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - http response parser fuzz found a crash (see $out/fuzz.log)"
  exit 1
fi
