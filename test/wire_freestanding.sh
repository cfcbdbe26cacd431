#!/usr/bin/env bash
# wire_freestanding.sh: the wire and configuration libraries build as
# freestanding code for the kernel (no libc headers beyond the freestanding
# ones, no calls outside the wire libraries except memcpy/memset, which
# compilers may emit and the kernel provides). TAP output. Run from the
# repository root.
set -u
dir=${O:-build/hosted}/tmp-freestanding
mkdir -p "$dir"
fail=0
for src in lib/postcard.c lib/cobs.c lib/sermux_frame.c lib/config.c; do
  obj="$dir/$(basename "$src" .c).o"
  if ! clang -std=gnu11 -O2 -ffreestanding -fno-builtin -nostdinc \
       -isystem "$(clang -print-resource-dir)/include" -target x86_64-unknown-none \
       -mno-red-zone -Wall -Wextra -Werror -Iinclude -c "$src" -o "$obj" 2> "$dir/err"; then
    echo "not ok - $src builds freestanding: $(head -3 "$dir/err")"; fail=1; continue
  fi
  extra=$(nm -u "$obj" | awk '{print $2}' | grep -vx -e memcpy -e memset \
          -e 'pc_[a-z0-9_]*' -e 'cobs_[a-z0-9_]*' | tr '\n' ' ')
  if [ -n "$extra" ]; then
    echo "not ok - $src needs no libc: $extra"; fail=1
  else
    echo "ok - $src builds freestanding and needs no libc"
  fi
done
exit $fail
