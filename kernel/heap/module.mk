# kernel heap: TLSF allocator (kernel/heap.c, include/mneme/heap.h).
$(eval $(call LIBRARY,mnheap,kernel/heap.c))

ifeq ($(HOSTED),yes)
$(eval $(call TEST,heap_test,test/heap_test.c,mnheap mnerr))
$(eval $(call BENCH,heap_bench,bench/heap_bench.c,mnheap mnerr))
BENCH_SCRIPTS += bench/heap.sh
endif
