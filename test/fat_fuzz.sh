#!/bin/sh
# Builds the disk formats' libFuzzer harness (test/fat_fuzz.c: GPT, FAT16,
# FAT32; clang, ASan+UBSan) and runs it for FAT_FUZZ_SECONDS or
# FUZZ_SECONDS (default 20: the run `make test` does; `make fuzz` passes a
# longer time). Seeds: FAT16 volumes made by mkfs.fat and mtools (files,
# directories, long names), raw and inside a GPT disk. Prints one TAP line.
# Corpus: build/fuzz/fat/.
set -u
secs=${FAT_FUZZ_SECONDS:-${FUZZ_SECONDS:-20}}
out=build/fuzz
corpus=$out/fat
mkdir -p "$corpus"
if ! clang -std=gnu11 -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all test/fat_fuzz.c fs/fat.c fs/gpt.c lib/err.c \
    -o "$out/fat_fuzz" 2> "$out/fat_fuzz.build.log"; then
  cat "$out/fat_fuzz.build.log"
  echo "not ok - FAT fuzz harness builds"
  exit 1
fi
if [ -z "$(ls -A "$corpus")" ]; then
  t=$(mktemp -d)
  export MTOOLS_SKIP_CHECK=1
  mkfs.fat -C -F 16 -s 1 -r 64 "$t/v.img" 2200 > /dev/null &&
    printf 'hello\n' > "$t/h" && head -c 3000 /dev/zero | tr '\0' 'z' > "$t/z" &&
    mmd -i "$t/v.img" ::/DIR ::/DIR/Sub ::/"A Long Directory Name" &&
    mcopy -i "$t/v.img" "$t/h" ::/HELLO.TXT &&
    mcopy -i "$t/v.img" "$t/z" "::/A Long Directory Name/zzz file.txt" &&
    mcopy -i "$t/v.img" "$t/h" "::/DIR/Sub/d.txt" &&
    head -c 65536 "$t/v.img" > "$corpus/fat16" &&
    python3 platform/x86_64/tools/gpt.py "$t/v.img" "$t/g.img" &&
    head -c 65536 "$t/g.img" > "$corpus/gpt" || { echo "not ok - FAT fuzz seeds"; exit 1; }
  rm -rf "$t"
fi
if "$out/fat_fuzz" -max_total_time="$secs" -max_len=65536 -timeout=20 \
    -artifact_prefix="$out/fat-" "$corpus" > "$out/fat_fuzz.log" 2>&1; then
  echo "ok - FAT fuzz ${secs}s: $(grep -o 'Done [0-9]* runs' "$out/fat_fuzz.log")"
else
  tail -n 40 "$out/fat_fuzz.log"
  echo "not ok - FAT fuzz ${secs}s (crash input in $out/fat-*)"
  exit 1
fi
