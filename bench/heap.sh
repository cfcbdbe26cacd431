#!/bin/sh
# Runs the heap benchmark: TLSF heap vs glibc malloc/free, same run.
# Usage: O=build/hosted bench/heap.sh
set -e
"${O:-build/hosted}/bench/heap_bench"
