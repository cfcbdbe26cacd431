#!/usr/bin/env bash
# make run-hosted: boot the hosted kernel under the host terminal, which
# shows its text and tracing and bridges its ports to 127.0.0.1:10000+N
# (the Forth shells: nc 127.0.0.1 10010). 16M: each Forth shell VM takes
# about 300 KiB, a SPAWNed child about 220 KiB.
set -eu
cd "$(dirname "$0")/.."
exec build/hosted/mnemeterm "exec:build/hosted/mneme --heap 16M --serial stdio $*"
