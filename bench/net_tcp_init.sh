#!/bin/busybox sh
# bench/net_tcp_init.sh: /init of the Linux guest of bench/net_tcp.sh
# (busybox-static and Debian's virtio modules): brings up eth0 as QEMU's
# user network would by DHCP (10.0.2.15/24), then does what mneme does
# in bench/net_tcp.py: sends bench_bytes to 10.0.2.100:7777, reads
# 10.0.2.100:7778 to its end, and powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
         failover net_failover virtio_net; do
  insmod /m/$m.ko || echo "insmod $m failed"
done
B=4194304
for a in $(cat /proc/cmdline); do
  case $a in bench_bytes=*) B=${a#bench_bytes=} ;; esac
done
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo BENCH-READY
dd if=/dev/zero bs=16384 count=$((B / 16384)) 2>/dev/null | nc 10.0.2.100 7777
echo SENT-DONE
n=$(nc 10.0.2.100 7778 </dev/null | wc -c)
echo "READ $n BYTES"
poweroff -f
