#!/usr/bin/env bash
# make run (hosted): boot the hosted kernel under the host terminal, which
# shows its text and tracing and bridges its ports to 127.0.0.1:10000+N.
set -eu
cd "$(dirname "$0")/.."
exec build/hosted/mnemeterm "exec:build/hosted/mneme --heap 1M --serial stdio $*"
