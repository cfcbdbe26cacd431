#!/bin/busybox sh
# bench/net_tcp_init.sh: /init of the Linux guest of bench/net_tcp.sh
# (bench/linux_guest.sh): brings up eth0 as QEMU's
# user network would by DHCP (10.0.2.15/24), then does what mneme does
# in bench/net_tcp.py: sends bench_bytes to 10.0.2.100:7777, reads
# 10.0.2.100:7778 to its end, and powers off.
. /guest.sh
guest_virtio_net
B=$(guest_arg bench_bytes 4194304)
echo BENCH-READY
dd if=/dev/zero bs=16384 count=$((B / 16384)) 2>/dev/null | nc 10.0.2.100 7777
echo SENT-DONE
n=$(nc 10.0.2.100 7778 </dev/null | wc -c)
echo "READ $n BYTES"
poweroff -f
