#!/usr/bin/env bash
# test/nvme_fuzz.sh: builds the libFuzzer target test/nvme_fuzz.c (clang,
# ASan+UBSan) over the NVMe queue library (nvme/nvme_queue.c) driven by a
# hostile controller, and runs it for FUZZ_SECONDS (default 10, the brief
# run of make test; make fuzz passes a longer time).
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-10}
out=build/fuzz
mkdir -p "$out/corpus-nvme"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
     -fno-sanitize-recover=all nvme/nvme_queue.c lib/err.c \
     test/nvme_fuzz.c -o "$out/nvme_fuzz" 2>"$out/nvme_fuzz.build.log"; then
  echo "not ok - nvme fuzz target does not build: $(head -5 "$out/nvme_fuzz.build.log")"
  exit 1
fi
printf '\x00\x01\x01\x00\x01\x00\x01\x00\x01\x01\x00\x01\x00\x01\x02\x03' > "$out/corpus-nvme/seed"
if "$out/nvme_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
     -rss_limit_mb=1024 "$out/corpus-nvme" >"$out/nvme_fuzz.log" 2>&1; then
  echo "ok - nvme queues (hostile controller) fuzz target ran ${secs}s: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$out/nvme_fuzz.log" | tail -1)"
else
  echo "not ok - nvme fuzz target failed; see $out/nvme_fuzz.log"
  grep -A20 -E 'ERROR|SUMMARY|deadly' "$out/nvme_fuzz.log" | head -30
  exit 1
fi
