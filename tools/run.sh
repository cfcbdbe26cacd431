#!/usr/bin/env bash
# make run: boot the hosted kernel on this terminal.
set -eu
cd "$(dirname "$0")/.."
# 16M: each Forth shell VM takes about 300 KiB, a SPAWNed child about 220 KiB.
exec build/hosted/mneme --heap 16M "$@"
