#!/bin/sh
# bench/fs.sh: the FAT library (mneme-fat on a hosted image file) beside
# Debian's mtools on the same kind of image: sequential write and read of
# a FS_BENCH_MB (default 256) MiB file, and creating FS_BENCH_FILES
# (default 1000) small files in one directory. Prints MB/s (files/s) for
# both and the ratio mneme/mtools. mneme flushes (fdatasync) at every
# ordering point of its commits (docs/fs.md), mtools never does; the
# "noflush" line shows mneme with the flush turned off, which is what
# mtools does. Linux's own FAT in QEMU (the issue's reference) is
# bench/fs_qemu.sh.
#   O=build/hosted bench/fs.sh
set -eu
O=${O:-build/hosted}
T=$O/mneme-fat
MB=${FS_BENCH_MB:-256}
N=${FS_BENCH_FILES:-1000}
export MTOOLS_SKIP_CHECK=1
dir=$(mktemp -d /tmp/fs_bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
now() { date +%s.%N; }
mkimg() { rm -f "$1"; mkfs.fat -C -F 32 -s 8 "$1" $(( (MB * 2 + 64) * 1024 )) > /dev/null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", n / t }'; }

head -c $((MB << 20)) /dev/zero | tr '\0' 'Z' > "$dir/big"
mkdir "$dir/small"
i=0
while [ $i -lt "$N" ]; do
  printf 'small file %d\n' $i > "$dir/small/small$(printf %04d $i).txt"
  i=$((i + 1))
done

# ---- mtools
mkimg "$dir/m.img"
t0=$(now); mcopy -i "$dir/m.img" "$dir/big" ::/big.bin; t1=$(now)
m_w=$(rate "$MB" "$(echo "$t1 - $t0" | bc)")
t0=$(now); mtype -i "$dir/m.img" ::/big.bin > /dev/null; t1=$(now)
m_r=$(rate "$MB" "$(echo "$t1 - $t0" | bc)")
mmd -i "$dir/m.img" ::/small
t0=$(now); mcopy -i "$dir/m.img" "$dir"/small/* ::/small/; t1=$(now)
m_s=$(rate "$N" "$(echo "$t1 - $t0" | bc)")

# ---- mneme (flushing), then without flushes
for mode in flush noflush; do
  mkimg "$dir/n.img"
  if [ $mode = noflush ]; then export MNEME_FAT_NOFLUSH=1; fi
  w=$($T "$dir/n.img" bench-write /big.bin "$MB")
  r=$($T "$dir/n.img" bench-read /big.bin | cut -d' ' -f1)
  s=$($T "$dir/n.img" bench-small /small "$N")
  eval "n_w_$mode=$(rate "$MB" "$w")"
  eval "n_r_$mode=$(rate "$MB" "$r")"
  eval "n_s_$mode=$(rate "$N" "$s")"
done
unset MNEME_FAT_NOFLUSH

echo "fs bench: FAT32 image files, ${MB} MiB file, ${N} small files"
printf '%-28s %10s %10s %8s\n' "" mneme mtools ratio
printf '%-28s %10s %10s %8s\n' "write MB/s" "$n_w_flush" "$m_w" "$(ratio "$n_w_flush" "$m_w")"
printf '%-28s %10s %10s %8s\n' "read MB/s" "$n_r_flush" "$m_r" "$(ratio "$n_r_flush" "$m_r")"
printf '%-28s %10s %10s %8s\n' "create small files/s" "$n_s_flush" "$m_s" "$(ratio "$n_s_flush" "$m_s")"
printf '%-28s %10s %10s %8s\n' "write MB/s (noflush)" "$n_w_noflush" "$m_w" "$(ratio "$n_w_noflush" "$m_w")"
printf '%-28s %10s %10s %8s\n' "create files/s (noflush)" "$n_s_noflush" "$m_s" "$(ratio "$n_s_noflush" "$m_s")"
