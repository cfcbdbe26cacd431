#!/bin/busybox sh
# bench/fs_qemu_init.sh: /init of the Linux guest of bench/fs_qemu.sh
# (busybox-static and Debian's virtio-blk and vfat modules): mounts the
# FAT32 disk (/dev/vda) and does what mneme does in bench/fs_qemu.py:
# writes fs_mb MiB to /mnt/big.bin in 16 KiB writes and fsyncs, reads it
# back (after dropping the page cache), creates fs_files small files in
# /mnt/small and syncs; prints each time (from /proc/uptime) and powers
# off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
         virtio_blk fat vfat nls_cp437 nls_ascii nls_utf8; do
  [ -e /m/$m.ko ] && { insmod /m/$m.ko || echo "insmod $m failed"; }
done
MB=16
N=200
for a in $(cat /proc/cmdline); do
  case $a in fs_mb=*) MB=${a#fs_mb=} ;; fs_files=*) N=${a#fs_files=} ;; esac
done
i=0
while [ ! -e /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /mnt
mount -t vfat /dev/vda /mnt || { echo "BENCH-FAILED mount"; poweroff -f; }
now() { cut -d' ' -f1 /proc/uptime; }
echo BENCH-READY
t0=$(now)
dd if=/dev/zero of=/mnt/big.bin bs=16384 count=$((MB * 64)) conv=fsync 2>/dev/null
t1=$(now)
echo "WRITE $t0 $t1"
sync
echo 3 > /proc/sys/vm/drop_caches
t0=$(now)
dd if=/mnt/big.bin of=/dev/null bs=16384 2>/dev/null
t1=$(now)
echo "READ $t0 $t1"
mkdir /mnt/small
t0=$(now)
i=0
while [ $i -lt $N ]; do
  echo "small file $i" > /mnt/small/small$i.txt
  i=$((i + 1))
done
sync
t1=$(now)
echo "SMALL $t0 $t1"
umount /mnt
echo BENCH-DONE
poweroff -f
