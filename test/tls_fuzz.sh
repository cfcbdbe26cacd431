#!/usr/bin/env bash
# Fuzzes the TLS client (tls/client.c over BearSSL, both instrumented)
# with hostile server bytes, libFuzzer (clang -fsanitize=fuzzer,address,
# undefined), for FUZZ_SECONDS (default 10). The BearSSL files it uses
# are compiled once into build/fuzz/tls/libbearssl.a. Needs make to
# have fetched BearSSL and
# generated the trust store (build/gen/tls). One TAP line.
set -u
secs=${FUZZ_SECONDS:-10}
out=build/fuzz/tls
bs=build/src/bearssl-0.6+dfsg.1-3
gen=build/gen/tls/anchors_mozilla.c
[ -f "$bs/.fetched" ] && [ -f "$gen" ] || { echo "not ok - tls fuzz: run make first (BearSSL, trust store)"; exit 1; }
mkdir -p "$out/corpus" "$out/seeds" "$out/obj"
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
flags="-std=gnu11 -g -O1 -Iinclude -I$bs/inc -Itls -DMN_HOSTED=1"
# Only the BearSSL files the client links are built instrumented (about a
# third of them): a plain link against make's host BearSSL with a link map
# says which (their objects are named dir_file.o there).
host=build/gen/tls/host/libbearssl.a
if [ ! -f "$out/libbearssl.a" ]; then
  [ -f "$host" ] || { echo "not ok - tls fuzz: run make first ($host)"; exit 1; }
  echo 'int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long);
int main(void) { return LLVMFuzzerTestOneInput((const unsigned char *)"", 0); }' > "$out/main.c"
  cc -std=gnu11 -O0 -Iinclude -I$bs/inc -Itls -DMN_HOSTED=1 -o "$out/plain" "$out/main.c" \
    test/tls_fuzz.c tls/client.c tls/anchors.c "$gen" "$host" -Wl,-Map="$out/map.txt" \
    || { echo "not ok - tls fuzz: plain link for the file list"; exit 1; }
  grep -o 'libbearssl.a([a-z0-9_]*\.o)' "$out/map.txt" | sed 's/.*(\(.*\)\.o)/\1/' | sort -u > "$out/used"
  for f in settings.c $(cat tls/bearssl.files); do
    grep -qx "$(echo "${f%.c}" | tr / _)" "$out/used" || continue
    o=$out/obj/$(echo "$f" | tr / _).o
    clang -O1 -g -w $san -I$bs/inc -I$bs/src -DBR_USE_UNIX_TIME=0 -DBR_USE_URANDOM=0 \
      -c "$bs/src/$f" -o "$o" || { echo "not ok - tls fuzz: BearSSL builds"; exit 1; }
  done
  ar rcs "$out/libbearssl.a" "$out"/obj/*.o
fi
if ! clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     test/tls_fuzz.c tls/client.c tls/anchors.c "$gen" "$out/libbearssl.a" \
     -o "$out/tls_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - tls fuzz target builds"; exit 1
fi
# Seeds: a TLS alert record, a ServerHello-shaped record, garbage.
printf '\x05\x15\x03\x03\x00\x02\x02\x28' > "$out/seeds/alert"
printf '\x07\x16\x03\x03\x00\x2a\x02\x00\x00\x26\x03\x03AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\xc0\x2b\x00' > "$out/seeds/hello"
printf '\x01GET / HTTP/1.1\r\n\r\n' > "$out/seeds/garbage"
if "$out/tls_fuzz" -max_total_time="$secs" -max_len=8192 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - tls client fuzzed with server bytes ${secs}s, ${runs:-?} inputs, no crash"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - tls client fuzz found a crash (see $out/fuzz.log)"
  exit 1
fi
