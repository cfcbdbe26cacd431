#!/usr/bin/env bash
# Fuzzes the settings TOML parser (lib/settings.c) with libFuzzer (clang
# -fsanitize=fuzzer,address,undefined) for FUZZ_SECONDS (default 10; make
# fuzz sets a longer one). Seeds: a full settings file. One TAP line.
set -u
secs=${FUZZ_SECONDS:-10}
out=build/fuzz/settings
mkdir -p "$out/corpus" "$out/seeds"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     test/settings_fuzz.c lib/settings.c lib/err.c -o "$out/settings_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - settings fuzz target builds"; exit 1
fi
cat > "$out/seeds/full.toml" <<'TOML'
# mneme settings
[llm]
provider = "openai"
api_key = "sk-\"x\"\\\u00e9"
model = "m"
base_url = "http://10.0.2.2:8080"
system = "be\nterse"
temperature = 0.700
max_tokens = 512
tool_forth = true
[net]
dhcp = false
ip = "10.0.2.15"
netmask = "255.255.255.0"
[wizard]
done = true
TOML
if "$out/settings_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - settings parser fuzzed ${secs}s, ${runs:-?} inputs, no crash, round trips hold"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - settings parser fuzz found a failure (see $out/fuzz.log)"
  exit 1
fi
