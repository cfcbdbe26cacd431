#!/usr/bin/env bash
# test/usb_fuzz.sh: builds the libFuzzer target test/usb_fuzz.c (clang,
# ASan+UBSan) over usb/usb_desc.c and usb/hid.c (descriptors and reports
# from a hostile device), and runs it for FUZZ_SECONDS (default 10, the
# brief run of make test; make fuzz passes a longer time).
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-10}
out=build/fuzz
mkdir -p "$out/corpus-usb"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
     -fno-sanitize-recover=all usb/usb_desc.c usb/hid.c lib/err.c \
     test/usb_fuzz.c -o "$out/usb_fuzz" 2>"$out/usb_fuzz.build.log"; then
  echo "not ok - usb fuzz target does not build: $(head -5 "$out/usb_fuzz.build.log")"
  exit 1
fi
printf '\x00\x01\x01\x00\x01\x00\x01\x00\x01\x01\x00\x01\x00\x01\x02\x03' > "$out/corpus-usb/seed"
# the HID spec's boot keyboard report descriptor, then two reports
printf '\xd0\x05\x01\x09\x06\xa1\x01\x05\x07\x19\xe0\x29\xe7\x15\x00\x25\x01\x75\x01\x95\x08\x81\x02\x95\x06\x75\x08\x15\x00\x25\x65\x19\x00\x29\x65\x81\x00\xc0\x08\x02\x00\x04\x00\x00\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00' > "$out/corpus-usb/boot"
if "$out/usb_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
     -rss_limit_mb=1024 "$out/corpus-usb" >"$out/usb_fuzz.log" 2>&1; then
  echo "ok - usb descriptors and HID reports (hostile device) fuzz target ran ${secs}s: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$out/usb_fuzz.log" | tail -1)"
else
  echo "not ok - usb fuzz target failed; see $out/usb_fuzz.log"
  grep -A20 -E 'ERROR|SUMMARY|deadly' "$out/usb_fuzz.log" | head -30
  exit 1
fi
