# mneme: top-level Makefile.
#
# Every part of the tree describes itself in a `module.mk` next to its code
# (kernel/module.mk, lib/module.mk, forth/module.mk, ...). This file only
# chooses the target, sets flags and includes them. See mk/rules.mk for the
# LIBRARY / PROGRAM / TEST templates the modules use.
#
#   make                 build every target (build/<target>/)
#   make run             install what is missing, build, boot mneme in QEMU
#                        (x86_64, serial on this terminal; GUI=1: a window)
#   make run ARCH=aarch64   the same on 64-bit ARM (QEMU virt, AAVMF)
#   make run-hosted      build and run mneme as a Linux process
#   make test            every test, with gcc, clang and ASan+UBSan
#   make bench           benchmarks (not part of make test)
#   make fuzz            longer fuzzing runs
#   make TARGET=x        one target: hosted, hosted-clang, hosted-asan, x86_64, aarch64
#   make image ARCH=x    the bootable disk image of x86_64 (default) or aarch64

TARGET ?= hosted
ARCH ?= x86_64
O := build/$(TARGET)
HOSTED_TARGETS := hosted hosted-clang hosted-asan

.DEFAULT_GOAL := all
include mk/target.mk
include mk/rules.mk
include $(sort $(wildcard */module.mk */*/module.mk))

.PHONY: all target tests test test-quick bench fuzz run run-hosted deps clean

# Build every target; a target whose toolchain is missing is skipped by
# its own module (see platform/x86_64/module.mk).
all:
	$(MAKE) TARGET=hosted target
	@if [ -f platform/x86_64/module.mk ]; then $(MAKE) TARGET=x86_64 target; fi
	@if [ -f platform/aarch64/module.mk ]; then $(MAKE) TARGET=aarch64 target; fi

target: $(ALL_OUTPUTS)

tests: $(ALL_OUTPUTS) $(TEST_BINS)

deps:
	@tools/deps.sh

# The README's test command: unit tests under three builds, then the
# integration scripts against the gcc build.
test: deps
	$(MAKE) TARGET=hosted tests
	$(MAKE) TARGET=hosted-clang tests
	$(MAKE) TARGET=hosted-asan tests
	@if [ -f platform/x86_64/module.mk ]; then $(MAKE) TARGET=x86_64 target; fi
	@if [ -f platform/aarch64/module.mk ]; then $(MAKE) TARGET=aarch64 target; fi
	@TEST_SCRIPTS="$(TEST_SCRIPTS)" test/run-tests.sh

# Unit tests of the gcc build only (a quick loop while developing).
test-quick:
	$(MAKE) TARGET=hosted tests
	@TEST_BUILDS=build/hosted TEST_SCRIPTS="$(TEST_SCRIPTS)" test/run-tests.sh

bench: deps
	$(MAKE) TARGET=hosted target $(BENCH_BINS)
	@for b in $(BENCH_SCRIPTS); do O=build/hosted $$b || exit 1; done

fuzz: deps
	@for f in $(FUZZ_SCRIPTS); do FUZZ_SECONDS=$${FUZZ_SECONDS:-120} $$f || exit 1; done

# platform/$(ARCH)/qemu.sh installs what is missing (tools/deps.sh) itself.
run:
	@platform/$(ARCH)/qemu.sh

run-hosted: deps
	$(MAKE) TARGET=hosted target
	@tools/run.sh

clean:
	rm -rf build
