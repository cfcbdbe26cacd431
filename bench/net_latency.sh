#!/usr/bin/env bash
# bench/net_latency.sh: TCP connection set-up time and ping round trip
# through virtio-net under QEMU (TCG), mneme beside Linux in the same QEMU
# (bench/net_latency.py prints the figures and the mneme/Linux ratios).
#
# Linux: bench/linux_guest.sh (Debian's kernel and busybox-static; its /init
# is bench/net_latency_init.sh).
set -eu
cd "$(dirname "$0")/.."
make -s TARGET=x86_64 x86-image
bench/linux_guest.sh bench/net_latency_init.sh build/bench/linux/initrd-latency.cpio
exec python3 bench/net_latency.py
