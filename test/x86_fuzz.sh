#!/usr/bin/env bash
# test/x86_fuzz.sh: builds the libFuzzer target test/x86_fuzz.c (clang,
# ASan+UBSan) over the x86_64 platform's PS/2 decoder and framebuffer
# console, and runs it for FUZZ_SECONDS (default 10, the brief run of
# make test; make fuzz passes a longer time).
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-10}
out=build/fuzz
mkdir -p "$out/corpus-x86"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
     -fno-sanitize-recover=all platform/x86_64/kbd.c services/kbd_decode.c platform/uefi/fbcon.c \
     test/x86_fuzz.c -o "$out/x86_fuzz" 2>"$out/x86_fuzz.build.log"; then
  echo "not ok - x86 fuzz target does not build: $(head -5 "$out/x86_fuzz.build.log")"
  exit 1
fi
printf '\x80\x2a\x1e\xe0\x48\x1d\x2e\033[31;44mhi\033[2J\033[5;5Hx\r\n\t\b' > "$out/corpus-x86/seed"
if "$out/x86_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
     -rss_limit_mb=1024 "$out/corpus-x86" >"$out/x86_fuzz.log" 2>&1; then
  echo "ok - x86 (PS/2 decoder, console escapes) fuzz target ran ${secs}s: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$out/x86_fuzz.log" | tail -1)"
else
  echo "not ok - x86 fuzz target failed; see $out/x86_fuzz.log"
  grep -A20 -E 'ERROR|SUMMARY|deadly' "$out/x86_fuzz.log" | head -30
  exit 1
fi
