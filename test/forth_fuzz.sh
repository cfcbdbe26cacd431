#!/usr/bin/env bash
# test/forth_fuzz.sh: builds the libFuzzer target test/forth_fuzz.c (clang,
# ASan+UBSan) and runs it for FUZZ_SECONDS (default 15, the brief run of
# make test; make fuzz passes a longer time). Seeds: test/forth/*.fs.
set -u
secs=${FUZZ_SECONDS:-15}
out=build/fuzz
mkdir -p "$out/corpus-forth"
gen=$out/forth_prelude.c
{ echo 'extern const char forth_prelude[];'; echo 'const char forth_prelude[] =';
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' forth/prelude.fs; echo ';'; } > "$gen"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
     -fno-sanitize-recover=all $(ls forth/*.c | grep -v '/main\.c$') "$gen" \
     test/forth_fuzz.c -o "$out/forth_fuzz" 2>"$out/forth_fuzz.build.log"; then
  echo "not ok - fuzz target does not build: $(head -5 "$out/forth_fuzz.build.log")"
  exit 1
fi
cp test/forth/*.fs "$out/corpus-forth/" 2>/dev/null
if "$out/forth_fuzz" -max_total_time="$secs" -max_len=2048 -timeout=10 -dict=test/forth/fuzz.dict \
     -rss_limit_mb=1024 "$out/corpus-forth" >"$out/forth_fuzz.log" 2>&1; then
  echo "ok - forth fuzz target ran ${secs}s: $(grep -aE "^#[0-9]+.*(DONE|pulse)" "$out/forth_fuzz.log" | tail -1)"
else
  echo "not ok - forth fuzz target failed; see $out/forth_fuzz.log"
  grep -A20 -E 'ERROR|SUMMARY' "$out/forth_fuzz.log" | head -30
  exit 1
fi
