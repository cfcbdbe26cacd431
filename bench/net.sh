#!/usr/bin/env bash
# make bench: TCP throughput of the hosted kernel over slirp, each way,
# beside two host processes on loopback (the ceiling); bench/net_bench.c.
set -eu
"${O:-build/hosted}/bench/net_bench"
