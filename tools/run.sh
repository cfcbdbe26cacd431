#!/usr/bin/env bash
# make run: boot the hosted kernel on this terminal.
set -eu
cd "$(dirname "$0")/.."
exec build/hosted/mneme --heap 1M "$@"
