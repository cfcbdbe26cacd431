# llm/: the `llm` interface's local backend (llm-local: the inference
# engine inside the kernel) and the Forth word GENERATE (docs/llm.md).
LLM_SRCS := llm/llm_local.c llm/llm_words.c
$(eval $(call LIBRARY,llm,$(LLM_SRCS)))
TEST_SCRIPTS += tests/qemu/llm.sh
ifeq ($(HOSTED),yes)
LDLIBS_llm_local_test += -lcmocka
$(eval $(call TEST,llm_local_test,test/llm_local_test.c,llm infer $(KTEST_LIBS)))
endif
