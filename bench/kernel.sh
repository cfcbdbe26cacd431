#!/usr/bin/env bash
# make bench: kernel core figures (see bench/kernel_bench.c).
set -eu
"${O:-build/hosted}/bench/kernel_bench"
