#!/usr/bin/env bash
# test/pci_fuzz.sh: builds the libFuzzer target test/pci_fuzz.c (clang,
# ASan+UBSan) over pci/pci.c (configuration space from devices),
# and runs it for FUZZ_SECONDS (default 10, the brief run of
# make test; make fuzz passes a longer time).
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-10}
out=build/fuzz
mkdir -p "$out/corpus-pci"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
     -fno-sanitize-recover=all pci/pci.c lib/err.c \
     test/pci_fuzz.c -o "$out/pci_fuzz" 2>"$out/pci_fuzz.build.log"; then
  echo "not ok - pci fuzz target does not build: $(head -5 "$out/pci_fuzz.build.log")"
  exit 1
fi
# Seed: legacy access; a virtio NIC with BARs, MSI-X, MSI and vendor
# capabilities, then a bridge to bus 1.
python3 - "$out/corpus-pci/seed" <<'PY'
import struct, sys
nic = bytearray(256)
struct.pack_into("<HHHH", nic, 0, 0x1af4, 0x1041, 0x0006, 0x0010)
nic[0x0b], nic[0x0e], nic[0x34], nic[0x3c], nic[0x3d] = 2, 0x80, 0x40, 11, 1
struct.pack_into("<IIII", nic, 0x10, 0x800c, 0xe0, 0x6061, 0xc1041000)
nic[0x40:0x4c] = bytes([0x11, 0x50, 2, 0]) + struct.pack("<II", 0x803, 0xc03)
nic[0x50:0x54] = bytes([0x05, 0x60, 0x80, 0x01])
nic[0x60:0x70] = bytes([0x09, 0x70, 16, 1, 4, 0, 0, 0]) + struct.pack("<II", 0, 0x38)
nic[0x70:0x74] = bytes([0x09, 0x00, 20, 2])
br = bytearray(256)
struct.pack_into("<HH", br, 0, 0x1b36, 0x000c)
br[0x0b], br[0x0a], br[0x0e], br[0x19] = 6, 4, 1, 1
open(sys.argv[1], "wb").write(bytes([0]) + bytes(nic) + bytes(br))
PY
if "$out/pci_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
     -rss_limit_mb=1024 "$out/corpus-pci" >"$out/pci_fuzz.log" 2>&1; then
  echo "ok - pci (configuration space) fuzz target ran ${secs}s: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$out/pci_fuzz.log" | tail -1)"
else
  echo "not ok - pci fuzz target failed; see $out/pci_fuzz.log"
  grep -A20 -E 'ERROR|SUMMARY|deadly' "$out/pci_fuzz.log" | head -30
  exit 1
fi
