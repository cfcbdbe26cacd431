#!/bin/busybox sh
# bench/fs_qemu_init.sh: /init of the Linux guest of bench/fs_qemu.sh
# (bench/linux_guest.sh, with virtio-blk and vfat): mounts the
# FAT32 disk (/dev/vda) and does what mneme does in bench/fs_qemu.py:
# writes fs_mb MiB to /mnt/big.bin in 16 KiB writes and fsyncs, reads it
# back (after dropping the page cache), creates fs_files small files in
# /mnt/small and syncs; prints each time (from /proc/uptime) and powers
# off.
. /guest.sh
guest_modules virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
  virtio_blk fat vfat nls_cp437 nls_ascii nls_utf8
MB=$(guest_arg fs_mb 16)
N=$(guest_arg fs_files 200)
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
