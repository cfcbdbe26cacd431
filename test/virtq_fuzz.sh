#!/usr/bin/env bash
# test/virtq_fuzz.sh: builds the libFuzzer target test/virtq_fuzz.c (clang,
# ASan+UBSan) over the split virtqueue (virtio/virtio_pci.c) driven by a
# hostile device, and runs it for FUZZ_SECONDS (default 10, the brief run
# of make test; make fuzz passes a longer time).
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-10}
out=build/fuzz
mkdir -p "$out/corpus-virtq"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
     -fno-sanitize-recover=all virtio/virtio_pci.c lib/err.c \
     test/virtq_fuzz.c -o "$out/virtq_fuzz" 2>"$out/virtq_fuzz.build.log"; then
  echo "not ok - virtq fuzz target does not build: $(head -5 "$out/virtq_fuzz.build.log")"
  exit 1
fi
printf '\x05\x00\x03\x00\x07\x01\x02\x01\x10\x02\x00\x03\x09\x02\x00' > "$out/corpus-virtq/seed"
if "$out/virtq_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
     -rss_limit_mb=1024 "$out/corpus-virtq" >"$out/virtq_fuzz.log" 2>&1; then
  echo "ok - virtq (hostile device) fuzz target ran ${secs}s: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$out/virtq_fuzz.log" | tail -1)"
else
  echo "not ok - virtq fuzz target failed; see $out/virtq_fuzz.log"
  grep -A20 -E 'ERROR|SUMMARY|deadly' "$out/virtq_fuzz.log" | head -30
  exit 1
fi
