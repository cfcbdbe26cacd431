#!/usr/bin/env bash
# mnemeterm against fake TCP, unix-socket and pty targets (test/mnemeterm_test.py).
set -u
cd "$(dirname "$0")/.."
exec python3 test/mnemeterm_test.py
