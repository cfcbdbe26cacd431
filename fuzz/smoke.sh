#!/usr/bin/env bash
# fuzz/smoke.sh: the brief fuzz run of `make test` (2 s per target).
exec env FUZZ_SECONDS="${FUZZ_SMOKE_SECONDS:-2}" "$(dirname "$0")/run.sh"
