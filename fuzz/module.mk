# fuzz/: libFuzzer targets for every parser of outside bytes (postcard,
# COBS, sermux demux, configuration). fuzz/run.sh builds them with clang
# into build/fuzz/ itself (self-contained, not through the templates).
#   make test: fuzz/smoke.sh, 2 s per target
#   make fuzz: fuzz/run.sh, FUZZ_SECONDS per target
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += fuzz/smoke.sh
endif
FUZZ_SCRIPTS += fuzz/run.sh
