#!/bin/sh
# bench/fs_powercut_qemu.sh: the issue's twenty power cuts of mneme in
# QEMU (tests/qemu/powercut.sh, which make test runs with 4), as a soak
# run: POWERCUT_ROUNDS (default 20) and POWERCUT_SEED (default: the time).
# Prints the TAP lines and a summary line "fs.powercut_qemu_rounds_ok N/M".
set -u
cd "$(dirname "$0")/.."
rounds=${POWERCUT_ROUNDS:-20}
out=$(POWERCUT_TIMEOUT=$((rounds * 400)) POWERCUT_ROUNDS=$rounds POWERCUT_SEED=${POWERCUT_SEED:-$(date +%s)} tests/qemu/powercut.sh)
rc=$?
echo "$out"
ok=$(echo "$out" | grep -c "^ok - cut [0-9]*: after mneme's mount and repairs")
echo "fs.powercut_qemu_rounds_ok $ok/$rounds"
exit $rc
