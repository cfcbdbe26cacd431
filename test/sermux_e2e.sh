#!/usr/bin/env bash
# End to end through the hosted kernel and mnemeterm (test/sermux_e2e.py).
set -u
cd "$(dirname "$0")/.."
exec python3 test/sermux_e2e.py
