# kernel heap: TLSF allocator (kernel/heap.c, include/mneme/heap.h).
# Freestanding: needs only memcpy from the platform.
$(eval $(call LIBRARY,mnheap,kernel/heap.c))

ifeq ($(HOSTED),yes)
$(eval $(call TEST,heap_test,test/heap_test.c,mnheap mnerr))
$(eval $(call BENCH,heap_bench,bench/heap_bench.c,mnheap mnerr))
BENCH_SCRIPTS += bench/heap.sh
# libFuzzer run of random operation sequences: brief (10 s) in make test,
# longer in make fuzz (FUZZ_SECONDS).
TEST_SCRIPTS += test/heap_fuzz.sh
FUZZ_SCRIPTS += test/heap_fuzz.sh
endif
