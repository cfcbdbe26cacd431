#!/bin/sh
# Serial mux throughput through the loopback port of the hosted kernel,
# direct and through mnemeterm, against a plain TCP echo (same run), and
# bytes on the wire per payload byte. Usage: O=build/hosted bench/sermux.sh
set -e
cd "$(dirname "$0")/.."
exec python3 bench/sermux_bench.py
