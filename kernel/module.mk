# kernel/: the portable kernel core. Freestanding C: it calls only the
# platform contract (include/mneme/platform.h).
KERNEL_SRCS := kernel/bbq.c kernel/kchannel.c kernel/kernel.c kernel/kmem.c \
               kernel/log.c kernel/oneshot.c kernel/registry.c kernel/task.c \
               kernel/timer.c kernel/userspace.c kernel/waitq.c
$(eval $(call LIBRARY,kernel,$(KERNEL_SRCS)))

ifeq ($(HOSTED),yes)
KTEST_LIBS := kernel plathosted kernel mnheap postcard cobs mnerr
$(foreach t,timer task kchannel bbq registry userspace log,$(if $(wildcard test/$(t)_test.c),$(eval $(call TEST,$(t)_test,test/$(t)_test.c,$(KTEST_LIBS)))))
$(eval $(call TEST,kernel_edge_test,test/kernel_edge_test.c,services $(KTEST_LIBS)))
endif

ifeq ($(HOSTED),yes)
$(eval $(call BENCH,kernel_bench,bench/kernel_bench.c,$(KTEST_LIBS)))
BENCH_SCRIPTS += bench/kernel.sh
endif
