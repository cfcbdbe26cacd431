#!/usr/bin/env bash
# bench/net_tcp.sh: TCP throughput through virtio-net under QEMU (TCG),
# mneme beside Linux in the same QEMU (bench/net_tcp.py prints MB/s both
# ways and the ratios).
#
# Linux: bench/linux_guest.sh (Debian's kernel and busybox-static; its /init
# is bench/net_tcp_init.sh).
set -eu
cd "$(dirname "$0")/.."
make -s TARGET=x86_64 x86-image
bench/linux_guest.sh bench/net_tcp_init.sh build/bench/linux/initrd.cpio
exec python3 bench/net_tcp.py
