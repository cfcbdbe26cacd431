#!/bin/busybox sh
# bench/net_latency_init.sh: /init of the Linux guest of
# bench/net_latency.sh (bench/linux_guest.sh): brings up eth0 as QEMU's
# user network would by DHCP (10.0.2.15/24), then does
# what mneme does in bench/net_latency.py: bench_pings echo requests to the
# gateway 10.0.2.2 one after another (each line gives its round trip), then
# a server on port 7000 that answers each connection with "x" (nc -ll -e).
. /guest.sh
guest_virtio_net
P=$(guest_arg bench_pings 50)
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
