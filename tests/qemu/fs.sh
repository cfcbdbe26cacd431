#!/usr/bin/env bash
# tests/qemu/fs.sh: builds the x86_64 image and runs the files service and
# the Forth file words on virtio-blk disks under QEMU (tests/qemu/fs_test.py),
# printing TAP lines. Skips (one "ok ... # SKIP" line) when QEMU, OVMF or
# the toolchain is missing: `make deps` installs them. LOAD-MODEL is
# checked there too, with the models in ../shared/testdata/llm/models.
set -u
cd "$(dirname "$0")/../.."
. tests/qemu/lib.sh
need_x86
skip_if_missing "x86_64 file system tests"
x86_image build/x86-image-fs.log
# LOAD-MODEL's GENERATE is compared with the hosted engine
O=${O:-build/hosted}
[ -x "$O/mneme-infer" ] || make -s TARGET=hosted "$O/mneme-infer" >>build/x86-image-fs.log 2>&1 || true
exec timeout --kill-after=10 600 python3 tests/qemu/fs_test.py
