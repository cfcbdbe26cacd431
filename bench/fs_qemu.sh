#!/usr/bin/env bash
# bench/fs_qemu.sh: files on virtio-blk under QEMU (TCG), mneme beside
# Linux in the same QEMU on the same kind of FAT32 disk (bench/fs_qemu.py
# prints MB/s, files/s and the ratios). FS_QEMU_MB (default 16; the
# issue's 256) and FS_QEMU_FILES (default 200; the issue's 1000).
#
# Linux: bench/linux_guest.sh (Debian's kernel with its virtio-blk and
# vfat modules, and busybox-static; its /init is bench/fs_qemu_init.sh).
set -eu
cd "$(dirname "$0")/.."
make -s TARGET=x86_64 x86-image
bench/linux_guest.sh bench/fs_qemu_init.sh build/bench/linux/initrd-fs.cpio \
  virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk fat vfat \
  nls_cp437? nls_ascii? nls_utf8?
exec python3 bench/fs_qemu.py
