#!/usr/bin/env bash
# test/net_fuzz.sh: builds test/net_fuzz.c (random Ethernet frames
# through the NIC's receive path into the network service and lwIP) with
# clang's libFuzzer into build/fuzz/ and runs it for FUZZ_SECONDS (make
# fuzz sets it, default 120; unset under make test: 5 s). lwIP is fetched
# by tools/fetch-source.sh if it is not there yet. Prints one TAP line.
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-5}
out=build/fuzz
bin=$out/net_fuzz
log=$out/net.log
corpus=$out/corpus/net
mkdir -p "$out" "$corpus"
if ! tools/fetch-source.sh lwip > "$log" 2>&1; then
  echo "not ok - fuzz net: lwIP could not be fetched (see $log)"; exit 1
fi
lwip=build/src/lwip-$(awk '$1 == "lwip" { print $2; exit }' tools/sources.lock)/src
srcs="test/net_fuzz.c net/net.c net/client.c net/lwip_port.c net/rxcheck.c
  kernel/bbq.c kernel/kchannel.c kernel/kernel.c kernel/kmem.c kernel/log.c kernel/oneshot.c
  kernel/registry.c kernel/task.c kernel/timer.c kernel/userspace.c kernel/waitq.c kernel/heap.c
  platform/hosted/plat.c platform/hosted/context.c platform/hosted/context_x86_64.S
  platform/hosted/console.c lib/err.c lib/postcard.c lib/cobs.c services/status.c"
lwip_srcs="$(for f in def dns inet_chksum init ip mem memp netif pbuf raw sys tcp tcp_in tcp_out timeouts udp; do echo $lwip/core/$f.c; done)
  $(for f in dhcp etharp icmp ip4 ip4_addr ip4_frag; do echo $lwip/core/ipv4/$f.c; done) $lwip/netif/ethernet.c"
# shellcheck disable=SC2086
if ! [ -x "$bin" ] || [ -n "$(find $srcs net/lwip include/mneme test/net_fuzz.sh -newer "$bin" | head -1)" ]; then
  if ! clang -g -O1 -std=gnu11 -Iinclude -Inet/lwip -I$lwip/include -DMN_HOSTED=1 \
       -DMNEME_NET_FUZZ=1 -pthread -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
       $srcs $lwip_srcs -o "$bin" >> "$log" 2>&1; then
    echo "not ok - fuzz net: build failed (see $log)"; exit 1
  fi
fi
if [ -z "$(ls -A "$corpus")" ]; then
  # frames to us from 52:55:0a:00:02:02 (10.0.2.2): an ARP request, a
  # TCP SYN to port 80, a UDP datagram to port 7, an ICMP echo request
  python3 - "$corpus" <<'PY'
import struct, sys
us, them = bytes.fromhex("525400123456"), bytes.fromhex("52550a000202")
ip_us, ip_them = bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2])
def eth(t, p): return us + them + struct.pack(">H", t) + p
def ip(proto, p):
    return struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(p), 1, 0, 64, proto, 0) + ip_them + ip_us + p
arp = eth(0x0806, struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + them + ip_them + bytes(6) + ip_us)
syn = eth(0x0800, ip(6, struct.pack(">HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 8192, 0, 0)))
udp = eth(0x0800, ip(17, struct.pack(">HHHH", 40000, 7, 12, 0) + b"ping"))
icmp = eth(0x0800, ip(1, struct.pack(">BBHHH", 8, 0, 0, 1, 1) + b"abcd"))
for name, frames in (("arp", [arp]), ("syn", [arp, syn]), ("udp", [udp]), ("icmp", [icmp])):
    with open(f"{sys.argv[1]}/{name}", "wb") as f:
        for fr in frames:
            f.write(struct.pack("<H", len(fr)) + fr)
PY
fi
# -detect_leaks=0: the kernel heap is one mmapped region LeakSanitizer
# cannot see into, and tasks on their own stacks confuse its end-of-run scan.
if ASAN_OPTIONS=detect_leaks=0 "$bin" -max_total_time="$secs" -print_final_stats=1 -max_len=4096 -rss_limit_mb=4096 -detect_leaks=0 \
     -artifact_prefix="$out/net-" "$corpus" >> "$log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "ok - fuzz net (Ethernet frames into lwIP): ${runs:-?} runs in ${secs}s"
else
  echo "not ok - fuzz net: failure, see $log and $out/net-*"
  tail -n 30 "$log" | sed 's/^/# /'
  exit 1
fi
