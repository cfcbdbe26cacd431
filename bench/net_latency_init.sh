#!/bin/busybox sh
# bench/net_latency_init.sh: /init of the Linux guest of
# bench/net_latency.sh (busybox-static and Debian's virtio modules): brings
# up eth0 as QEMU's user network would by DHCP (10.0.2.15/24), then does
# what mneme does in bench/net_latency.py: bench_pings echo requests to the
# gateway 10.0.2.2 one after another (each line gives its round trip), then
# a server on port 7000 that answers each connection with "x" (nc -ll -e).
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
         failover net_failover virtio_net; do
  insmod /m/$m.ko || echo "insmod $m failed"
done
P=50
for a in $(cat /proc/cmdline); do
  case $a in bench_pings=*) P=${a#bench_pings=} ;; esac
done
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
# the first echo request also resolves the gateway's MAC address (ARP)
ping -c 1 -W 5 10.0.2.2 >/dev/null 2>&1
echo PINGS-START
ping -c "$P" -A -s 32 10.0.2.2
echo PINGS-DONE
nc -ll -p 7000 -e /bin/echo x &
i=0
while ! netstat -ltn 2>/dev/null | grep -q ':7000 ' && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
echo LAT-READY
wait
